package org.waystation.demo.android

import android.app.Application
import android.content.Context
import android.content.SharedPreferences
import java.io.File
import java.time.Clock
import java.util.UUID
import org.waystation.demo.BackgroundSyncScheduler
import org.waystation.demo.CoreSyncGateway
import org.waystation.demo.PendingActions
import org.waystation.demo.StringStore
import org.waystation.demo.SyncCoordinator
import org.waystation.demo.SyncGateway
import org.waystation.demo.SyncAccount
import org.waystation.demo.SyncAccountStore
import org.waystation.demo.SyncPreferences
import org.waystation.demo.TokenKey
import org.waystation.demo.openCore
import okhttp3.OkHttpClient
import org.waystation.*
import org.waystation.core.*
import kotlinx.coroutines.runBlocking

/**
 * The app's long-lived objects, made once by the Application class (WaystationDemoApp, in
 * src/androidx because it wires in WorkManager) and reached from every screen.
 */
object AppGraph {
    /** Bundled packs, copied into the app's assets by scripts/build-rust.sh. */
    const val STATION_PACK_ASSET = "packs/xian-sample.pack.json"
    const val TRAINING_PACK_ASSET = "packs/xian-training.pack.json"

    class Graph internal constructor(
        /** Reads a bundled pack by its asset name. */
        private val bundled: (String) -> ByteArray,
        /** One core for the app's lifetime; safe to call from any thread. */
        val core: Waystation,
        /** This install's rider id (a demo has no accounts). */
        val user: String,
        /**
         * The time the screens show and judge by ("open now", "sent 10:42", a fix's age): the
         * system clock, a fixed one under test. The core has its own (core/src/clock.rs).
         */
        val clock: Clock,
        val sync: SyncGateway,
        val coordinator: SyncCoordinator,
        /**
         * The case events this phone recorded that the server has not taken yet (what the case
         * screen says is waiting); a complete sync forgets the ones it delivered.
         */
        val pendingActions: PendingActions,
        private val prefs: SharedPreferences,
        private val accounts: SyncAccountStore,
    ) {
        private val packLock = Any()

        /**
         * The sync server and token, or null before the rider set them up (or when the token
         * can no longer be opened: SyncAccountStore). The token is kept in SharedPreferences
         * only sealed with AES-GCM under a key in the Android Keystore ([KeystoreTokenKey]).
         * Setting it throws SealedTokenException when the Keystore cannot seal the token.
         */
        var syncAccount: SyncAccount?
            get() = accounts.read()
            set(value) = accounts.write(value)

        @Volatile
        private var packsChecked = false

        /**
         * The rider's background sync choices. After setting them, call
         * `coordinator.onPreferencesChanged()` off the main thread to reschedule.
         */
        var syncPreferences: SyncPreferences
            get() = SyncPreferences(
                backgroundSync = prefs.getBoolean(KEY_BACKGROUND, true),
                wifiOnly = prefs.getBoolean(KEY_WIFI_ONLY, false),
            )
            set(value) {
                prefs.edit().putBoolean(KEY_BACKGROUND, value.backgroundSync).putBoolean(KEY_WIFI_ONLY, value.wifiOnly).apply()
            }

        /**
         * Installs the bundled station and training packs on first use (verified against the
         * demo publisher key, as any pack). Blocking: call it off the main thread.
         */
        fun ensurePacks() {
            if (packsChecked) return
            synchronized(packLock) {
                if (packsChecked) return
                val kinds = core.packs().installed().map { it.kind }.toSet()
                if ("stations" !in kinds) runBlocking { core.packs().importStations(bundled(STATION_PACK_ASSET)) }
                if ("training" !in kinds) runBlocking { core.packs().importTraining(bundled(TRAINING_PACK_ASSET)) }
                packsChecked = true
            }
        }
    }

    private const val KEY_BACKGROUND = "background_sync"
    private const val KEY_WIFI_ONLY = "wifi_only"
    private const val KEY_USER = "user_id"

    /** SharedPreferences as the account store's strings. */
    private class PrefsStringStore(private val prefs: SharedPreferences) : StringStore {
        override fun get(name: String): String? = prefs.getString(name, null)

        override fun edit(changes: Map<String, String?>) {
            val editor = prefs.edit()
            changes.forEach { (name, value) -> if (value == null) editor.remove(name) else editor.putString(name, value) }
            editor.apply()
        }
    }

    @Volatile
    private var graph: Graph? = null

    /**
     * The app's one OkHttpClient (its connection pool and threads are shared by every call):
     * the platform's proxy and trust store, OkHttp's defaults otherwise. An app that already
     * has one passes it to [init].
     */
    private val defaultHttp: OkHttpClient by lazy { OkHttpClient() }

    /** The graph; [init] must have run (the Application class does it in onCreate). */
    fun get(): Graph = graph ?: throw IllegalStateException("AppGraph.init was not called: is WaystationDemoApp the application class?")

    /**
     * Opens the core on the app's private storage and wires sync to [scheduler]. Opening runs
     * migrations and builds the station index from SQLite: milliseconds for the sample pack.
     * [bundled] reads the packs shipped with the app (its assets; the Robolectric tests, which
     * have no APK, read them from data/). [tokenKey] seals the sync token: the Android
     * Keystore's key on a phone; the Robolectric tests, which have no Keystore, give a
     * software key. [instance] names another phone's data directory and preferences: a phone
     * has one (null); the Robolectric chain test plays a rider's, a station's and a
     * supervisor's phone in one app. [http] is the app's one OkHttpClient, which the core's
     * sync, pack fetch and photo fetch go through ([openCore]).
     */
    @Synchronized
    fun init(
        app: Application,
        scheduler: BackgroundSyncScheduler,
        clock: Clock = Clock.systemUTC(),
        bundled: (String) -> ByteArray = { name -> app.assets.open(name).use { it.readBytes() } },
        tokenKey: TokenKey = KeystoreTokenKey,
        instance: String? = null,
        http: OkHttpClient = defaultHttp,
    ): Graph {
        graph?.let { return it }
        val prefs = app.getSharedPreferences(if (instance == null) "waystation-demo" else "waystation-demo-$instance", Context.MODE_PRIVATE)
        val dataDir = if (instance == null) File(app.filesDir, "waystation") else File(File(app.filesDir, "instances/$instance"), "waystation")
        val user = prefs.getString(KEY_USER, null) ?: ("rider-" + UUID.randomUUID().toString().take(8)).also {
            prefs.edit().putString(KEY_USER, it).apply()
        }
        // HTTP through OkHttp; the demo publisher key trusted (openCore).
        val core = openCore(dataDir.path, http)
        // The core's sync; the account is read at each sync, so a change applies to the next.
        val store = PrefsStringStore(prefs)
        val accounts = SyncAccountStore(store, tokenKey)
        val pending = PendingActions(store)
        val sync = CoreSyncGateway(core, pending) { accounts.read() }
        lateinit var created: Graph
        val coordinator = SyncCoordinator(sync, scheduler) { created.syncPreferences }
        created = Graph(bundled, core, user, clock, sync, coordinator, pending, prefs, accounts)
        graph = created
        return created
    }

    /**
     * Closes the core and forgets the graph, so that the next [init] opens it again. A phone
     * never needs this (the graph lives as long as the process); the Robolectric tests do, since
     * each test gets a new Application and data directory in the same JVM.
     */
    @Synchronized
    fun release() {
        val current = graph ?: return
        graph = null
        (current.sync as? AutoCloseable)?.close()
        current.core.close()
    }
}
