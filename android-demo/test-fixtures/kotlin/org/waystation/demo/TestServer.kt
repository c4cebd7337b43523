package org.waystation.demo

import java.nio.file.Files
import java.nio.file.Path
import java.nio.file.Paths
import java.util.concurrent.TimeUnit

/**
 * A real `waystation-server` on loopback (built next to the native library by
 * `cargo build -p waystation-server`), on a database under [dir]; accounts are made with its
 * admin CLI (`user add`), as an administrator would. The server's clock is the test's:
 * WAYSTATION_TEST_NOW, when the JVM's environment has it, is inherited by the process.
 *
 * One fixture for the JVM tests (shared/, JUnit 5) and the Robolectric tests (JUnit 4): both
 * poms add this directory as a test source. So it uses no test framework's assertions; a
 * command that fails throws, naming it, which fails the test either way.
 */
class TestServer(private val dir: Path) : AutoCloseable {
    /** The server binary, for its other admin commands (`pack publish`). */
    val bin: String = Paths.get(System.getProperty("jna.library.path"), "waystation-server").toString()

    /** The server's database. */
    val db: Path = dir.resolve("server.db")
    private var process: Process? = null

    /** The server's URL once [start]ed. */
    lateinit var url: String
        private set

    init {
        Files.createDirectories(dir)
    }

    /**
     * Adds an account of [role] (`rider`, `station`, `supervisor`, `grid`) following up the
     * districts [areas] (`--area`), and returns its token.
     */
    fun addUser(name: String, role: String, vararg areas: String): String {
        val args = listOf(bin, "user", "add", "--db", db.toString(), "--name", name, "--role", role) + areas.flatMap { listOf("--area", it) }
        val p = ProcessBuilder(args).redirectError(ProcessBuilder.Redirect.DISCARD).start()
        val out = p.inputStream.bufferedReader().readText()
        check(p.waitFor() == 0) { "user add failed: $out" }
        return out.trim().lines().last()
    }

    fun start(): TestServer {
        val p = ProcessBuilder(bin, "serve", "--db", db.toString(), "--listen", "127.0.0.1:0")
            .redirectError(ProcessBuilder.Redirect.DISCARD).start()
        process = p
        val line = p.inputStream.bufferedReader().readLine().orEmpty()
        check(line.startsWith("listening on ")) { "the server did not start: $line" }
        url = line.substringAfterLast(' ')
        return this
    }

    /** The account for [token] on this server. */
    fun account(token: String): SyncAccount = SyncAccount(url, token)

    override fun close() {
        process?.let {
            it.destroy()
            it.waitFor(10, TimeUnit.SECONDS)
        }
        process = null
    }
}
