package org.waystation.demo

import java.nio.file.Files
import java.nio.file.Path
import java.nio.file.Paths
import kotlinx.coroutines.runBlocking
import org.junit.jupiter.api.AfterEach
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertFalse
import org.junit.jupiter.api.Assertions.assertInstanceOf
import org.junit.jupiter.api.Assertions.assertNotNull
import org.junit.jupiter.api.Assertions.assertNull
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.assertThrows
import org.junit.jupiter.api.io.TempDir
import org.waystation.Waystation
import org.waystation.WaystationException
import org.waystation.core.CaseQuery
import org.waystation.core.CaseStatus
import org.waystation.core.CategoryGroup
import org.waystation.reportCategories

/**
 * The follow-up view models on two phones and a real `waystation-server` on loopback: a rider
 * reports and syncs; a station account's phone learns its account and district at its first
 * sync, lists the district's cases offline, acts on them offline (each action saved on the
 * phone and shown as waiting), and the next sync sends them; the rider then sees the statuses.
 */
class FollowUpSyncTest {
    @TempDir
    lateinit var tmp: Path
    private val opened = mutableListOf<AutoCloseable>()
    private val server by lazy { TestServer(tmp.resolve("server")) }

    @AfterEach
    fun stop() {
        opened.reversed().forEach { it.close() }
        server.close()
    }

    private fun phone(name: String): Waystation = Fixtures.coreWithStations(tmp.resolve(name)).also { opened += it }

    private suspend fun sync(gateway: CoreSyncGateway) {
        val outcome = gateway.syncNow()
        assertInstanceOf(SyncOutcome.Synced::class.java, outcome, "$outcome")
    }

    @Test
    fun `a station's inbox, its actions saved offline and shown waiting, then sent by the next sync`() = runBlocking {
        val riderToken = server.addUser(Fixtures.RIDER, "rider")
        val stationToken = server.addUser("beilin-station-3", "station", "610103")
        server.start()

        // The rider reports three problems in Beilin (one with a photo) and one in Yanta, and syncs.
        val rider = phone("rider")
        val chargerCategory = reportCategories().first { it.group == CategoryGroup.STATION }.code
        val manhole = FollowUpTest.submitted(rider, "other", description = "井盖缺失")
        val charger = FollowUpTest.submitted(rider, chargerCategory, description = "充电桩坏了")
        val lamp = FollowUpTest.submitted(rider, "other", description = "路灯不亮")
        val yanta = FollowUpTest.submitted(rider, "other", district = "610113", description = "雁塔的坑")
        val riderGateway = CoreSyncGateway(rider) { server.account(riderToken) }.also { opened += it }
        sync(riderGateway)

        // The station's phone before its first sync: no account, so no inbox and no action.
        val station = phone("station")
        val pending = PendingActions(MemoryStringStore())
        val gateway = CoreSyncGateway(station, pending) { server.account(stationToken) }.also { opened += it }
        val inbox = InboxViewModel(station, Lang.EN, pending)
        val before = inbox.load()
        assertNull(before.account)
        assertTrue(before.notice!!.contains("Sync screen"), before.notice)
        assertTrue(before.sections.isEmpty())

        sync(gateway)
        val screen = inbox.load()
        assertEquals("Station staff beilin-station-3 · Beilin", screen.account)
        assertNull(screen.notice)
        assertEquals("New 3 · In progress 0 · Dispatched 0 · Resolved 0 · Rejected 0", screen.counts.replace('\u00A0', ' '))
        assertEquals(listOf("New (3)"), screen.sections.map { it.title })
        val rows = screen.sections.single().rows
        assertEquals(setOf(manhole, charger, lamp), rows.map { it.reportId }.toSet(), "Yanta's report is not the station's")
        // Newest problem first: the core's order, by submission time.
        val listed = station.cases().list(CaseQuery(districts = listOf("610103"), statuses = emptyList(), includeWithdrawn = false))
        assertEquals(listed.map { it.report.id }, rows.map { it.reportId })
        val times = listed.map { it.report.submittedAt!! }
        assertEquals(times.sortedDescending(), times)
        assertTrue(rows.all { it.place == "Beilin" && it.age.startsWith("reported ") && it.waiting == null && it.status == "Open" })
        assertEquals("路灯不亮", rows.first { it.reportId == lamp }.summary)
        assertFalse(station.cases().list(CaseQuery(districts = emptyList(), statuses = emptyList(), includeWithdrawn = false)).any { it.report.id == yanta })

        // The case screen: the report, no event yet, the station's buttons.
        val cases = CaseViewModel(station, Lang.EN, pending)
        val fresh = cases.load(manhole)
        assertEquals("Open", fresh.case.status)
        assertEquals("井盖缺失", fresh.report.description)
        assertTrue(fresh.report.place!!.startsWith("Beilin · 34.25900, 108.94200"), fresh.report.place)
        assertEquals(listOf(CaseAction.ACKNOWLEDGE, CaseAction.DISPATCH, CaseAction.NOTE), fresh.actions)
        assertEquals("Nothing waiting to be sent", fresh.waiting)
        assertTrue(fresh.events.isEmpty())

        // Offline (nothing is sent by acting): acknowledge, dispatch, note.
        assertEquals("Acknowledged: saved on this phone, sent at the next sync", cases.act(manhole, CaseAction.ACKNOWLEDGE, ""))
        cases.act(charger, CaseAction.DISPATCH, " 610103-07 ")
        cases.act(lamp, CaseAction.NOTE, "已联系路灯所")
        assertThrows<IllegalArgumentException> { cases.act(lamp, CaseAction.DISPATCH, "  ") }
        val acknowledged = cases.load(manhole)
        assertEquals("Acknowledged", acknowledged.case.status)
        assertEquals("1 action saved on this phone, waiting to be sent", acknowledged.waiting)
        assertEquals(listOf(true), acknowledged.events.map { it.waiting })
        assertEquals("Station beilin-station-3", acknowledged.events.single().row.who)
        assertEquals(listOf(CaseAction.DISPATCH, CaseAction.NOTE), acknowledged.actions)
        assertEquals("Grid 610103-07", cases.load(charger).case.grid)

        val offline = inbox.load()
        assertEquals(listOf(InboxGroup.NEW, InboxGroup.IN_PROGRESS, InboxGroup.DISPATCHED), offline.sections.map { it.group })
        assertEquals(listOf(lamp, manhole, charger), offline.sections.map { it.rows.single().reportId })
        assertTrue(offline.sections.all { it.rows.single().waiting == "1 action waiting to be sent" })
        assertEquals(3L, station.sync().status().pendingDocuments)

        // The next sync sends them: nothing waits any more, on the screen or in the core.
        sync(gateway)
        assertEquals("Nothing waiting to be sent", cases.load(manhole).waiting)
        assertTrue(inbox.load().sections.flatMap { it.rows }.all { it.waiting == null })
        assertEquals(0L, station.sync().status().pendingDocuments)

        // The rider's phone sees where its reports stand, and the rider has no action.
        sync(riderGateway)
        val outbox = OutboxViewModel(rider, Fixtures.RIDER, Lang.EN).load().submitted.associateBy { it.reportId }
        assertEquals("Acknowledged", outbox.getValue(manhole).caseStatus)
        assertEquals("In progress", outbox.getValue(charger).caseStatus)
        assertEquals("Open", outbox.getValue(lamp).caseStatus)
        val ridersView = CaseViewModel(rider, Lang.EN, PendingActions(MemoryStringStore())).load(manhole)
        assertEquals(emptyList<CaseAction>(), ridersView.actions)
        assertNull(ridersView.waiting)
        assertNull(ridersView.actionsNotice)
        assertEquals(listOf("Acknowledged"), ridersView.events.map { it.row.what })
    }

    @Test
    fun `a photo the follow-up phone lacks is fetched when asked for, and a report outside the districts gets no action`() = runBlocking {
        val riderToken = server.addUser(Fixtures.RIDER, "rider")
        val supervisorToken = server.addUser("vol-zhang", "supervisor", "610103")
        server.start()

        val rider = phone("rider")
        val form = ReportForm(rider, Fixtures.RIDER, Lang.EN)
        val id = form.start("other").id
        form.edit(ReportField.DESCRIPTION, "井盖缺失")
        form.edit(ReportField.DISTRICT, "610103")
        form.setLocation(Fixtures.gpsFix(34.2590, 108.9420))
        form.attachPhoto(Fixtures.JPEG)
        assertInstanceOf(SubmitResult.Submitted::class.java, form.submit())
        sync(CoreSyncGateway(rider) { server.account(riderToken) }.also { opened += it })

        val supervisor = phone("supervisor")
        val pending = PendingActions(MemoryStringStore())
        val account = server.account(supervisorToken)
        sync(CoreSyncGateway(supervisor, pending) { account }.also { opened += it })
        val cases = CaseViewModel(supervisor, Lang.EN, pending)
        val photo = cases.load(id).report.photos.single()
        assertNull(photo.path, "a synced report's photo is not downloaded with it")
        assertTrue(photo.label.startsWith("Photo 1 · "), photo.label)
        val path = cases.fetchPhoto(photo.sha256, account)
        assertEquals(photo.sha256, Fixtures.sha256Hex(Files.readAllBytes(Paths.get(path))))
        assertEquals(path, cases.load(id).report.photos.single().path)
        assertEquals(CaseAction.entries, cases.load(id).actions)

        // An inspection note with a photo: stored on the phone (metadata stripped), named by the event.
        assertThrows<IllegalArgumentException> { cases.act(id, CaseAction.NOTE, "看过了", Fixtures.JPEG) }
        cases.act(id, CaseAction.INSPECTION, "井盖已更换", Fixtures.JPEG)
        val inspected = cases.load(id).events.single()
        assertEquals("井盖已更换", inspected.row.note)
        assertEquals("Inspection photo 1", inspected.photos.single().label)
        assertNotNull(inspected.photos.single().path, "the supervisor's own photo is on the phone")
        assertEquals(inspected.photos.single().sha256, supervisor.cases().get(id).timeline.single().event.photos.single())

        // A report the supervisor's account does not cover (Yanta): shown, not actionable.
        val elsewhere = FollowUpTest.submitted(supervisor, "other", author = "vol-zhang", district = "610113")
        val outside = cases.load(elsewhere)
        assertEquals(emptyList<CaseAction>(), outside.actions)
        assertEquals("This report is outside your districts: you cannot act on it", outside.actionsNotice)
        val refused = assertThrows<WaystationException.InvalidInput> { cases.act(elsewhere, CaseAction.NOTE, "看过了") }
        assertTrue(refused.reason.contains("outside the districts"), refused.reason)
        assertEquals(CaseStatus.OPEN, supervisor.cases().get(elsewhere).status)
        assertTrue(pending.forCase(elsewhere).isEmpty(), "nothing refused is noted as waiting")
        assertNotNull(supervisor.sync().account())
    }
}
