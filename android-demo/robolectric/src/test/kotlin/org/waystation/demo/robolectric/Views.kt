package org.waystation.demo.robolectric

import android.app.Activity
import android.os.Looper
import android.view.View
import android.view.ViewGroup
import android.widget.TextView
import org.junit.Assert.assertTrue
import org.junit.Assert.fail
import org.robolectric.Shadows.shadowOf

/*
 * Looking at a screen as a person does: the texts shown, the controls by their label. The
 * screens do their core calls on a background thread and post the result to the main looper,
 * so a test runs the main looper until what it waits for is on the screen (or fails, naming
 * what it saw, after a bound that only a broken screen reaches).
 */

/** Every view under [root], depth first, this one included. */
fun View.tree(): List<View> {
    val out = mutableListOf<View>()
    fun walk(v: View) {
        out += v
        if (v is ViewGroup) for (i in 0 until v.childCount) walk(v.getChildAt(i))
    }
    walk(this)
    return out
}

/** Whether a view and all its parents are visible. */
fun View.shown(): Boolean {
    var v: View? = this
    while (v != null) {
        if (v.visibility != View.VISIBLE) return false
        v = v.parent as? View
    }
    return true
}

/** The activity's content (its views, not the window decor). */
val Activity.content: View get() = requireViewById<View>(android.R.id.content)

/** The texts a person sees on the screen, in order. */
fun Activity.texts(): List<String> =
    content.tree().filter { it is TextView && it.shown() }.map { (it as TextView).text.toString() }.filter { it.isNotEmpty() }

/** Everything on the screen as one string, for failure messages. */
fun Activity.screenText(): String = texts().joinToString(" | ")

/** Runs the main looper until [condition] holds; fails with [what] and the screen after 20 s. */
fun Activity.waitFor(what: String, condition: () -> Boolean) {
    val deadline = System.nanoTime() + 20_000_000_000L
    while (true) {
        shadowOf(Looper.getMainLooper()).idle()
        if (condition()) return
        if (System.nanoTime() > deadline) fail("waited 20 s for $what; the screen shows: ${screenText()}")
        Thread.sleep(5)
    }
}

/** Waits until a visible text contains [part], and returns that view. */
fun Activity.waitForText(part: String): TextView {
    var found: TextView? = null
    waitFor("a text containing \"$part\"") {
        found = content.tree().filterIsInstance<TextView>().firstOrNull { it.shown() && it.text.contains(part) }
        found != null
    }
    return found!!
}

/** The visible view (a button, a check box…) whose text is exactly [label]; fails if none. */
fun Activity.control(label: String): TextView =
    content.tree().filterIsInstance<TextView>().firstOrNull { it.shown() && it.text.toString() == label }
        ?: throw AssertionError("no control \"$label\" on the screen: ${screenText()}")

/** Taps the control labelled [label] (it must be enabled, as for a finger). */
fun Activity.tap(label: String) {
    val view = control(label)
    assertTrue("\"$label\" is disabled", view.isEnabled)
    // A check box answers through its change listener: performClick toggles it and says false.
    view.performClick()
    shadowOf(Looper.getMainLooper()).idle()
}

/** Whether a visible text contains [part] now. */
fun Activity.showsText(part: String): Boolean = texts().any { it.contains(part) }

/** Taps the card (the nearest clickable parent) that shows a text containing [part]. */
fun Activity.tapCard(part: String) {
    var view: View? = waitForText(part)
    while (view != null && !view.isClickable) view = view.parent as? View
    assertTrue("no tappable card shows \"$part\"", view != null)
    view!!.performClick()
    shadowOf(Looper.getMainLooper()).idle()
}
