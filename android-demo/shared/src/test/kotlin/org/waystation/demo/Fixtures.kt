package org.waystation.demo

import java.io.ByteArrayOutputStream
import java.nio.file.Files
import java.nio.file.Path
import java.nio.file.Paths
import java.time.Clock
import java.time.Instant
import java.time.ZoneOffset
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertInstanceOf
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Assertions.fail
import kotlinx.coroutines.runBlocking
import okhttp3.OkHttpClient
import org.waystation.*
import org.waystation.core.*

/**
 * What the tests share: the real library (JNA loads it from `jna.library.path`), a fresh data
 * directory per test (a real SQLite file under JUnit's temporary directory), the signed packs
 * under data/ (and a training pack with a lesson image, signed here), fixed clocks and a small
 * JPEG.
 */
object Fixtures {
    const val RIDER = "rider-7"

    /** The Bell Tower of Xi'an, WGS-84. */
    val BELL_TOWER = Position(34.25953, 108.94235, Datum.WGS84)

    /** Wednesday 2 December 2026, 11:00 in Xi'an: most stations are open. */
    val WEDNESDAY_11H: Instant = Instant.parse("2026-12-02T03:00:00Z")

    /** Thursday 3 December 2026, 03:00 in Xi'an: most stations are closed. */
    val THURSDAY_03H: Instant = Instant.parse("2026-12-02T19:00:00Z")

    fun clockAt(instant: Instant): Clock = Clock.fixed(instant, ZoneOffset.UTC)

    private val repoRoot: Path by lazy {
        Paths.get(System.getProperty("waystation.repo.root") ?: fail("system property waystation.repo.root is not set"))
    }

    val stationPack: Path get() = repoRoot.resolve("data/stations/xian-sample.pack.json")
    val trainingPack: Path get() = repoRoot.resolve("data/training/xian-training.pack.json")

    /**
     * The tests' one OkHttpClient, as the app has one: every sync, pack fetch and photo fetch
     * of these tests goes through OkHttp ([openCore]), not the library's built-in transport.
     */
    val http: OkHttpClient by lazy { OkHttpClient() }

    /**
     * A core on a new data directory, opened as the demo app opens it ([openCore]: the demo
     * publisher key trusted, HTTP through OkHttp on [http]).
     */
    fun core(dir: Path, http: OkHttpClient = Fixtures.http): Waystation = openCore(dir.toString(), http)

    /** Installs the signed station pack at [path] (the import is a suspend function). */
    fun Waystation.installStations(path: Path) = runBlocking { packs().importStations(Files.readAllBytes(path)) }

    /** Installs the signed training pack at [path]. */
    fun Waystation.installTraining(path: Path) = runBlocking { packs().importTraining(Files.readAllBytes(path)) }

    fun coreWithStations(dir: Path, http: OkHttpClient = Fixtures.http): Waystation =
        core(dir, http).also { it.installStations(stationPack) }

    fun coreWithTraining(dir: Path): Waystation = core(dir).also { it.installTraining(trainingPack) }

    /** Both bundled packs, as the app installs them at its first start. */
    fun coreWithPacks(dir: Path): Waystation = coreWithStations(dir).also { it.installTraining(trainingPack) }

    /** The lesson [trainingPackWithImage] puts an image on. */
    const val SEALS_LESSON = "food-safety-delivery/seals"

    /** The SHA-256 of [bytes] in lowercase hex: how the core names a lesson image. */
    fun sha256Hex(bytes: ByteArray): String =
        java.security.MessageDigest.getInstance("SHA-256").digest(bytes).joinToString("") { "%02x".format(it) }

    /** The `waystation` CLI, built next to the native library by `cargo build -p waystation-cli`. */
    private val cli: String get() = Paths.get(System.getProperty("jna.library.path"), "waystation").toString()

    /** Runs the `waystation` CLI; fails the test unless it exits 0. Returns its standard output. */
    private fun waystation(vararg args: String): String {
        val process = ProcessBuilder(cli, *args).redirectError(ProcessBuilder.Redirect.PIPE).start()
        val err = StringBuilder()
        val drain = Thread { err.append(process.errorStream.bufferedReader().readText()) }.apply { start() }
        val out = process.inputStream.bufferedReader().readText()
        val code = process.waitFor()
        drain.join()
        assertEquals(0, code, "waystation ${args.joinToString(" ")} failed: $out$err")
        return out
    }

    /**
     * A new publisher key pair made by `waystation pack keygen` under [dir], named [keyId]: the
     * key file (secret, for `pack sign`) and its public half (for a server's `--trust-key`).
     * The demo core does not trust it.
     */
    fun publisherKey(dir: Path, keyId: String): Pair<Path, Path> {
        Files.createDirectories(dir)
        val key = dir.resolve("$keyId.key.json")
        val public = dir.resolve("$keyId.public.json")
        Files.writeString(public, waystation("pack", "keygen", "--key-id", keyId, "--out", key.toString()))
        return key to public
    }

    /** The demo publisher's key pair (its secret is public), which [core] trusts. */
    val demoPublisherKeyFile: Path get() = repoRoot.resolve("data/keys/demo-publisher.json")

    /**
     * The real training payload (data/training/xian-training.payload.json, version 1) with one
     * image, [JPEG] described as [altZh] / [altEn], on [SEALS_LESSON], as [version], signed with
     * [key] (the demo publisher key unless given) by `waystation pack sign` (the CLI, built next
     * to the native library by `cargo build -p waystation-cli`). The pack file is written under
     * [dir].
     */
    fun trainingPackWithImage(
        dir: Path,
        altZh: String,
        altEn: String,
        version: Int = 1,
        key: Path = demoPublisherKeyFile,
    ): Path {
        var text = Files.readString(repoRoot.resolve("data/training/xian-training.payload.json"))
        val header = "\"version\": 1,"
        val v = text.indexOf(header)
        assertTrue(v in 0 until text.indexOf("\"courses\""), "the payload's header says version 1")
        text = text.replaceRange(v, v + header.length, "\"version\": $version,")
        val empty = "\"images\": []"
        val at = text.indexOf(empty, text.indexOf("\"id\": \"$SEALS_LESSON\""))
        assertTrue(at > 0, "the seals lesson has an empty image list to fill")
        val image = """{"sha256": "${sha256Hex(JPEG)}", "alt": {"zh": "$altZh", "en": "$altEn"}, "media_type": "image/jpeg"}"""
        Files.createDirectories(dir)
        val payload = dir.resolve("training-with-image.payload.json")
        Files.writeString(payload, text.replaceRange(at, at + empty.length, "\"images\": [$image]"))
        val pack = dir.resolve("training-with-image.pack.json")
        waystation(
            "pack", "sign", "--key", key.toString(), "--in", payload.toString(), "--out", pack.toString(),
            "--type", "application/vnd.waystation.training-pack+json",
        )
        return pack
    }

    private fun segment(marker: Int, body: ByteArray): ByteArray {
        val out = ByteArrayOutputStream()
        val len = body.size + 2
        out.write(0xFF); out.write(marker); out.write(len shr 8); out.write(len and 0xFF)
        out.write(body)
        return out.toByteArray()
    }

    private fun bytes(vararg b: Int) = ByteArray(b.size) { b[it].toByte() }

    /** A valid 1×1 baseline JPEG with an EXIF segment, as a camera would write one. */
    val JPEG: ByteArray by lazy {
        val out = ByteArrayOutputStream()
        out.write(bytes(0xFF, 0xD8))
        out.write(segment(0xE0, "JFIF\u0000".toByteArray(Charsets.ISO_8859_1) + bytes(1, 1, 0, 0, 1, 0, 1, 0, 0)))
        out.write(segment(0xE1, "Exif\u0000\u0000MM".toByteArray(Charsets.ISO_8859_1) + bytes(0, 0x2a, 0, 0, 0, 8, 0, 0, 0, 0, 0, 0)))
        out.write(segment(0xDB, ByteArray(1) + ByteArray(64) { 1 }))
        out.write(segment(0xC0, bytes(8, 0, 1, 0, 1, 1, 1, 0x11, 0)))
        out.write(segment(0xC4, bytes(0x00, 1) + ByteArray(16)))
        out.write(segment(0xC4, bytes(0x10, 1) + ByteArray(16)))
        out.write(segment(0xDA, bytes(1, 1, 0, 0, 0x3F, 0)))
        out.write(bytes(0x3F, 0xFF, 0xD9))
        out.toByteArray()
    }

    /** A fresh GPS fix at a place, as Android's LocationManager would give it. */
    fun gpsFix(lat: Double, lon: Double, accuracy: Double? = 8.0, mock: Boolean = false, at: Instant = Instant.now()) =
        PlatformFix(lat = lat, lon = lon, accuracyM = accuracy, timeMillis = at.toEpochMilli(), mock = mock, provider = "gps")

    /**
     * A report of category "other" with a photo and a GPS fix, submitted on [core] by [RIDER]
     * (a station pack installed names its district); returns its id.
     */
    fun submitWithPhoto(core: Waystation): String {
        val form = ReportForm(core, RIDER, Lang.EN)
        val id = form.start("other").id
        form.edit(ReportField.DESCRIPTION, "井盖缺失")
        form.setLocation(gpsFix(34.2230, 108.9530))
        form.attachPhoto(JPEG)
        assertInstanceOf(SubmitResult.Submitted::class.java, form.submit())
        return id
    }
}
