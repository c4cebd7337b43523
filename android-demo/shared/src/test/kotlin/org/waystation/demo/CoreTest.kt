package org.waystation.demo

import java.nio.file.Path
import org.junit.jupiter.api.AfterEach
import org.junit.jupiter.api.io.TempDir
import org.waystation.Waystation

/**
 * The base of the tests on one phone's core: each core on its own data directory (a real
 * SQLite file) under JUnit's temporary directory [tmp], closed after the test.
 */
abstract class CoreTest {
    @TempDir
    lateinit var tmp: Path
    private val opened = mutableListOf<Waystation>()

    @AfterEach
    fun closeCores() = opened.forEach { it.close() }

    /**
     * A core on the data directory [name] with the station pack, as the app has it: a report's
     * district comes from the nearest station.
     */
    protected open fun core(name: String = "phone"): Waystation = opened(Fixtures.coreWithStations(tmp.resolve(name)))

    /** [core], closed after the test. */
    protected fun opened(core: Waystation): Waystation = core.also { opened += it }
}
