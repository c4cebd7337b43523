package org.waystation.demo.android

import android.app.Activity
import android.os.Bundle
import android.widget.Button
import android.widget.Toast
import java.util.Locale
import java.util.concurrent.ExecutorService
import java.util.concurrent.Executors
import kotlinx.coroutines.CancellationException
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.Job
import kotlinx.coroutines.MainScope
import kotlinx.coroutines.asCoroutineDispatcher
import kotlinx.coroutines.cancel
import kotlinx.coroutines.launch
import kotlinx.coroutines.withContext
import org.waystation.demo.Lang
import org.waystation.demo.SyncOutcome
import org.waystation.demo.syncOutcomeMessage
import org.waystation.demo.userMessage

/**
 * The base of every screen: the app's objects, a coroutine scope cancelled with the
 * activity, and [work], which runs core calls on the screen's own background thread (one
 * thread, so a screen's view model is never used from two threads at once) and shows the
 * result, or the error as a message, on the main thread.
 */
abstract class Screen : Activity() {
    protected val graph: AppGraph.Graph get() = AppGraph.get()

    /**
     * The phone's language, read from this activity's configuration: Chinese for any `zh`
     * locale, English otherwise. A language change recreates the activity, so each screen
     * follows it.
     */
    protected val lang: Lang get() = langOf(resources.configuration.locales[0])
    protected val scope: CoroutineScope = MainScope()
    private val executor: ExecutorService = Executors.newSingleThreadExecutor()
    private val background = executor.asCoroutineDispatcher()

    protected fun t(zh: String, en: String): String = lang.t(zh, en)

    /**
     * The manifest's theme, set again here: the screens are drawn for a light theme (dark text
     * on light cards), and a window without the manifest (Robolectric, which has no APK here)
     * would otherwise get the framework's dark default and draw white text on white.
     */
    override fun onCreate(savedInstanceState: Bundle?) {
        setTheme(android.R.style.Theme_Material_Light_DarkActionBar)
        super.onCreate(savedInstanceState)
    }

    protected fun <T> work(task: () -> T, onDone: (T) -> Unit): Job = scope.launch {
        try {
            val result = withContext(background) { task() }
            onDone(result)
        } catch (e: CancellationException) {
            throw e
        } catch (e: Exception) {
            toast(userMessage(e, lang))
        }
    }

    /**
     * A "Sync now" tapped on a screen (the sync screen's, the inbox's): [button] is disabled
     * while the sync runs (the coordinator runs one at a time), the outcome is said in a toast,
     * then [then] redraws the screen.
     */
    protected fun runSync(button: Button, then: (SyncOutcome) -> Unit) {
        button.isEnabled = false
        scope.launch {
            // The sync itself suspends; the status read and the rescheduling after it block.
            val outcome = withContext(Dispatchers.IO) { graph.coordinator.syncNow() }
            toast(syncOutcomeMessage(outcome, lang))
            then(outcome)
        }
    }

    /** Now, by the app's clock ([AppGraph.Graph.clock]). */
    protected fun now(): java.time.Instant = graph.clock.instant()

    protected fun toast(message: String) {
        Toast.makeText(this, message, Toast.LENGTH_LONG).show()
    }

    override fun onDestroy() {
        scope.cancel()
        executor.shutdown()
        super.onDestroy()
    }
}

/** The interface language for a locale: Chinese for `zh` (any region or script), else English. */
fun langOf(locale: Locale?): Lang = if (locale?.language == "zh") Lang.ZH else Lang.EN
