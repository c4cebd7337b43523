package org.waystation.demo.robolectric

import android.app.Application
import java.nio.file.Files
import java.nio.file.Path
import java.nio.file.Paths
import java.time.Clock
import java.time.Instant
import java.time.ZoneOffset
import java.util.concurrent.CopyOnWriteArrayList
import javax.crypto.KeyGenerator
import javax.crypto.SecretKey
import org.waystation.demo.TokenKey
import org.waystation.demo.BackgroundSyncScheduler
import org.waystation.demo.SyncPlan
import org.waystation.demo.android.AppGraph
import org.waystation.demo.android.PhotoProvider
import org.robolectric.Robolectric
import android.content.pm.ProviderInfo

/**
 * The application class under test. The app's own (`WaystationDemoApp`, app/src/androidx)
 * wires WorkManager, which cannot be fetched here; this one opens the same [AppGraph] on
 * Robolectric's fresh data directory with the fixed clock and a scheduler that records the
 * plans the shared sync policy makes, instead of handing them to WorkManager. It also stands
 * in for what Robolectric takes only from an APK, which this build has none of: the photo
 * provider the manifest declares, and the packs in the assets.
 */
class RobolectricApp : Application() {
    override fun onCreate() {
        super.onCreate()
        // A previous test's graph (same JVM, same class loader) points at its data directory.
        AppGraph.release()
        AppGraph.init(this, scheduler, CLOCK, ::bundled, softwareKey)
        // The manifest's <provider>, which Robolectric registers only from an APK.
        Robolectric.buildContentProvider(PhotoProvider::class.java)
            .create(ProviderInfo().apply { authority = PhotoProvider.authority(this@RobolectricApp) })
    }

    private fun bundled(asset: String): ByteArray = Files.readAllBytes(bundledPack(asset))

    /**
     * Makes this app another phone: the graph is released and opened again on [instance]'s own
     * data directory and preferences (a rider's, a station's, a supervisor's phone in one test).
     * Screens opened after it use that phone; the earlier phones' data stays for switching back.
     */
    fun switchTo(instance: String) {
        AppGraph.release()
        AppGraph.init(this, scheduler, CLOCK, ::bundled, softwareKey, instance = instance)
    }

    /** What the app asked WorkManager to do, in order. */
    val plans: MutableList<SyncPlan> = CopyOnWriteArrayList()

    private val scheduler = BackgroundSyncScheduler { plan -> plans += plan }

    /**
     * Seals the sync token in place of the Android Keystore's key, which Robolectric does not
     * have (KeystoreTokenKey is compiled here, never run: android-demo/README.md).
     */
    private val softwareKey = object : TokenKey {
        private val key: SecretKey = KeyGenerator.getInstance("AES").apply { init(256) }.generateKey()

        override fun secretKey(): SecretKey = key
    }

    companion object {
        /**
         * Wednesday 2 December 2026, 11:00 in Xi'an: most stations are open. The same instant
         * as WAYSTATION_TEST_NOW, the core's clock in this JVM (robolectric/pom.xml).
         */
        val NOW: Instant = Instant.parse(
            System.getenv("WAYSTATION_TEST_NOW") ?: error("WAYSTATION_TEST_NOW is not set: run through robolectric/pom.xml"),
        )

        val CLOCK: Clock = Clock.fixed(NOW, ZoneOffset.UTC)

        private val repoRoot: Path = Paths.get(System.getProperty("waystation.repo.root") ?: error("waystation.repo.root is not set"))

        /**
         * The file under data/ that scripts/build-rust.sh copies to the app's assets as [asset]
         * (Robolectric reads assets only from an APK, which this build has none of).
         */
        fun bundledPack(asset: String): Path = when (asset) {
            AppGraph.STATION_PACK_ASSET -> repoRoot.resolve("data/stations/xian-sample.pack.json")
            AppGraph.TRAINING_PACK_ASSET -> repoRoot.resolve("data/training/xian-training.pack.json")
            else -> error("no bundled pack is called $asset")
        }
    }
}
