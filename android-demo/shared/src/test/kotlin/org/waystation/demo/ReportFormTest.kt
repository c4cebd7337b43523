package org.waystation.demo

import java.nio.file.Path
import java.time.Duration
import java.time.Instant
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertFalse
import org.junit.jupiter.api.Assertions.assertInstanceOf
import org.junit.jupiter.api.Assertions.assertNotNull
import org.junit.jupiter.api.Assertions.assertNull
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.assertThrows
import org.waystation.*
import org.waystation.core.*

/** The report draft form over the real core: autosave, location, photo, check, submit. */
class ReportFormTest : CoreTest() {
    /** A category that needs the merchant, like a missing food-safety seal. */
    private val merchantCategory = reportCategories().first { it.needsMerchant }.code

    @Test
    fun `typed text is buffered, then stored in one save that survives reopening`() {
        val core = core()
        val form = ReportForm(core, Fixtures.RIDER, Lang.EN)
        val started = form.start(merchantCategory)
        assertTrue(started.editable)
        assertTrue(started.needsMerchant)
        assertFalse(form.hasUnsavedEdits)
        assertNull(form.autosaveDueAt())

        form.edit(ReportField.DESCRIPTION, "封签破损")
        form.edit(ReportField.MERCHANT_NAME, "某某小吃")
        assertTrue(form.hasUnsavedEdits)
        assertNotNull(form.autosaveDueAt())
        // The form shows the typed text before it is stored…
        assertEquals("封签破损", form.state().description)
        // …but the core does not have it yet.
        assertNull(core.reports().get(started.id).description)

        form.save()
        assertFalse(form.hasUnsavedEdits)
        assertEquals("封签破损", core.reports().get(started.id).description)
        assertEquals("某某小吃", core.reports().get(started.id).merchantName)

        val reopened = ReportForm(core, Fixtures.RIDER, Lang.EN).open(started.id)
        assertEquals("封签破损", reopened.description)
        assertEquals("某某小吃", reopened.merchantName)
    }

    @Test
    fun `autosave comes after a quiet pause, and at the latest after the max delay`() {
        val policy = AutosavePolicy(quiet = Duration.ofMillis(800), maxDelay = Duration.ofSeconds(5))
        val t0 = Instant.parse("2026-12-02T03:00:00Z")
        assertEquals(t0.plusMillis(800), policy.dueAt(t0, t0))
        assertEquals(t0.plusMillis(3800), policy.dueAt(t0, t0.plusSeconds(3)))
        // Typing without a pause for 10 s still saves 5 s after the first keystroke.
        assertEquals(t0.plusSeconds(5), policy.dueAt(t0, t0.plusSeconds(10)))
    }

    @Test
    fun `every problem is listed at once, and fixing them enables submit`() {
        val core = core()
        val form = ReportForm(core, Fixtures.RIDER, Lang.EN)
        val state = form.start(merchantCategory)
        assertFalse(state.canSubmit)
        val fields = state.problems.map { it.field }.toSet()
        assertTrue("position" in fields, "no location yet: $fields")
        assertTrue(state.problems.size >= 2, "position and merchant are both missing: ${state.problems}")
        state.problems.forEach { assertTrue(it.label.isNotBlank() && it.message.isNotBlank()) }

        // Submitting now changes nothing and lists the same problems.
        val refused = form.submit()
        assertInstanceOf(SubmitResult.NotSubmitted::class.java, refused)
        assertEquals(state.problems, (refused as SubmitResult.NotSubmitted).problems)
        assertEquals(ReportStatus.DRAFT, core.reports().get(state.id).status)

        form.edit(ReportField.DESCRIPTION, "后厨无证经营")
        form.edit(ReportField.MERCHANT_NAME, "某某小吃")
        form.edit(ReportField.MERCHANT_ADDRESS, "雁塔区小寨东路 1 号")
        form.save()
        val located = form.setLocation(Fixtures.gpsFix(34.2230, 108.9530, accuracy = 8.0))
        assertTrue(located.canSubmit, "problems left: ${located.problems}")
        assertTrue(located.position!!.startsWith("±8 m"), located.position)
    }

    @Test
    fun `an imprecise or mock fix is stored with warnings, a hopeless one blocks submit`() {
        val core = core()
        val form = ReportForm(core, Fixtures.RIDER, Lang.EN)
        form.start("other")
        form.edit(ReportField.DESCRIPTION, "充电桩损坏")
        form.save()

        val mock = form.setLocation(Fixtures.gpsFix(34.2230, 108.9530, accuracy = 120.0, mock = true))
        assertTrue(mock.canSubmit)
        assertTrue(mock.warnings.isNotEmpty(), "imprecise and mock fixes warn")
        assertTrue(mock.position!!.endsWith("mock"), mock.position)
        assertTrue(core.reports().get(mock.id).position!!.mock)

        val unknown = form.setLocation(Fixtures.gpsFix(34.2230, 108.9530, accuracy = null))
        assertNull(core.reports().get(unknown.id).position!!.accuracyM, "unknown accuracy stays unknown")
        assertTrue(unknown.position!!.startsWith("accuracy unknown"), unknown.position)

        val hopeless = form.setLocation(Fixtures.gpsFix(34.2230, 108.9530, accuracy = 3000.0))
        assertFalse(hopeless.canSubmit)
        assertTrue(hopeless.problems.any { it.field == "position" })
    }

    @Test
    fun `a camera photo is attached stripped, removed, and the core refuses garbage`() {
        val core = core()
        val form = ReportForm(core, Fixtures.RIDER, Lang.EN)
        form.start("other")
        val withPhoto = form.attachPhoto(Fixtures.JPEG)
        assertEquals(1, withPhoto.photos.size)
        assertTrue(withPhoto.photos[0].description.contains("1×1"), withPhoto.photos[0].description)
        assertTrue(withPhoto.photos[0].description.endsWith("image/jpeg"))
        // Stored without the EXIF segment.
        val stored = java.nio.file.Files.readAllBytes(Path.of(core.reports().photoPath(withPhoto.photos[0].sha256)))
        assertFalse(String(stored, Charsets.ISO_8859_1).contains("Exif"))

        assertThrows<WaystationException.InvalidInput> { form.attachPhoto("not a photo".toByteArray()) }
        assertEquals(1, form.state().photos.size)
        assertEquals(0, form.removePhoto(withPhoto.photos[0].sha256).photos.size)
    }

    @Test
    fun `submit freezes the report into the outbox, and the form turns read-only`() {
        val core = core()
        val form = ReportForm(core, Fixtures.RIDER, Lang.EN)
        val id = form.start("other").id
        form.edit(ReportField.DESCRIPTION, "路口井盖缺失")
        form.setLocation(Fixtures.gpsFix(34.2230, 108.9530))
        // submit() saves what was typed first.
        val result = form.submit()
        assertInstanceOf(SubmitResult.Submitted::class.java, result)
        val report = core.reports().get(id)
        assertEquals(ReportStatus.SUBMITTED, report.status)
        assertEquals("路口井盖缺失", report.description)
        assertEquals(OutboxState.Pending, report.outbox)

        val after = form.state()
        assertFalse(after.editable)
        assertFalse(after.canSubmit)
        assertTrue(after.problems.isEmpty())
        assertThrows<WaystationException.InvalidInput> { form.setCategory(merchantCategory) }
    }

    @Test
    fun `far from every station the form asks for the district, and a typed one lets it through`() {
        // A core without the station pack cannot derive the district from a nearby station.
        val core = opened(Fixtures.core(tmp.resolve("no-stations")))
        val form = ReportForm(core, Fixtures.RIDER, Lang.EN)
        form.start("other")
        form.edit(ReportField.DESCRIPTION, "井盖缺失")
        val state = form.setLocation(Fixtures.gpsFix(34.2230, 108.9530))
        assertTrue(state.needsDistrict, "${state.problems}")
        assertFalse(state.canSubmit)
        assertEquals("District", state.problems.single { it.field == "district" }.label)
        form.edit(ReportField.DISTRICT, "610113")
        val fixed = form.save()
        assertTrue(fixed.canSubmit, "${fixed.problems}")
        assertEquals("610113", fixed.district)
        assertInstanceOf(SubmitResult.Submitted::class.java, form.submit())
    }

    @Test
    fun `near a station the district comes from it`() {
        val core = core()
        val form = ReportForm(core, Fixtures.RIDER, Lang.EN)
        form.start("other")
        form.edit(ReportField.DESCRIPTION, "井盖缺失")
        val state = form.setLocation(Fixtures.gpsFix(34.2230, 108.9530))
        assertFalse(state.needsDistrict)
        assertTrue(state.canSubmit, "${state.problems}")
    }

    @Test
    fun `a second report at the same place shows the first as a possible duplicate`() {
        val core = core()
        val first = ReportForm(core, Fixtures.RIDER, Lang.EN)
        val firstId = first.start("other").id
        first.edit(ReportField.DESCRIPTION, "路口井盖缺失")
        first.setLocation(Fixtures.gpsFix(34.2230, 108.9530))
        assertInstanceOf(SubmitResult.Submitted::class.java, first.submit())

        val second = ReportForm(core, "rider-8", Lang.EN)
        second.start("other")
        // 0.0002° of latitude is about 22 m.
        val state = second.setLocation(Fixtures.gpsFix(34.2232, 108.9530))
        assertEquals(listOf(firstId), state.duplicates.map { it.reportId })
        assertTrue(state.duplicates[0].distance.endsWith(" m"))
        assertEquals("Open", state.duplicates[0].status)

        val far = second.setLocation(Fixtures.gpsFix(34.2530, 108.9530))
        assertTrue(far.duplicates.isEmpty())
    }

    @Test
    fun `only the author deletes a draft`() {
        val core = core()
        val form = ReportForm(core, Fixtures.RIDER, Lang.EN)
        val id = form.start("other").id
        assertThrows<WaystationException> { ReportForm(core, "someone-else", Lang.EN).apply { open(id) }.deleteDraft() }
        form.deleteDraft()
        assertThrows<WaystationException.NotFound> { core.reports().get(id) }
        assertThrows<IllegalStateException> { form.state() }
    }

    @Test
    fun `errors read as messages`() {
        assertEquals("bad", userMessage(WaystationException.InvalidInput("bad"), Lang.EN))
        assertEquals("Not found: x", userMessage(WaystationException.NotFound("x"), Lang.EN))
        assertEquals("The data was written by a newer app: update the app", userMessage(WaystationException.SchemaTooNew("v9"), Lang.EN))
    }
}
