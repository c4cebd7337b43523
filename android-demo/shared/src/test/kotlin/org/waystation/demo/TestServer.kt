package org.waystation.demo

import java.nio.file.Files
import java.nio.file.Path
import java.nio.file.Paths
import java.util.concurrent.TimeUnit
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertTrue

/**
 * A real `waystation-server` on loopback (built next to the native library by
 * `cargo build -p waystation-server`), on a database under [dir]; accounts are made with its
 * admin CLI (`user add`), as an administrator would.
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

    /** Adds an account (`--role rider|station|supervisor|grid`, `--area CODE`…) and returns its token. */
    fun addUser(name: String, role: String, vararg areas: String): String {
        val args = listOf(bin, "user", "add", "--db", db.toString(), "--name", name, "--role", role) + areas.flatMap { listOf("--area", it) }
        val p = ProcessBuilder(args).redirectError(ProcessBuilder.Redirect.DISCARD).start()
        val out = p.inputStream.bufferedReader().readText()
        assertEquals(0, p.waitFor(), "user add failed: $out")
        return out.trim().lines().last()
    }

    fun start(): TestServer {
        val p = ProcessBuilder(bin, "serve", "--db", db.toString(), "--listen", "127.0.0.1:0")
            .redirectError(ProcessBuilder.Redirect.DISCARD).start()
        process = p
        val line = p.inputStream.bufferedReader().readLine().orEmpty()
        assertTrue(line.startsWith("listening on "), line)
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
