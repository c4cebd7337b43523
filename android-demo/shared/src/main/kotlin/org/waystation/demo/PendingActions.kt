package org.waystation.demo

/**
 * The case events this phone recorded that the server has not taken yet, so a case screen can
 * say what is waiting to be sent ("2 actions saved on this phone, waiting to be sent").
 *
 * Why the app keeps this list: the core marks a whole document as having unsent changes, but
 * its API tells only how many documents wait (`SyncStatus.pendingDocuments`), not which, and not
 * which of a case's events are this phone's unsent ones. So the case screen notes each event it
 * records here (saved in the same [StringStore] as the sync account, so it survives a restart),
 * and [CoreSyncGateway] forgets the events a sync delivered: the ones noted before a complete
 * sync began, except those of a case document the server refused (they stay, and the screen
 * shows the refusal). An event noted while a sync runs waits for the next one, which is right:
 * that sync may have read the document before the event was written.
 */
class PendingActions(private val store: StringStore) {
    /** One recorded event: its case (the report id) and the event's id. */
    data class Entry(val reportId: String, val eventId: String)

    /** Notes an event this phone just recorded on [reportId]'s case. */
    @Synchronized
    fun add(reportId: String, eventId: String) {
        val entries = read()
        if (entries.any { it.eventId == eventId }) return
        write(entries + Entry(reportId, eventId))
    }

    /** The ids of this phone's events on [reportId]'s case that wait to be sent. */
    @Synchronized
    fun forCase(reportId: String): Set<String> = read().filter { it.reportId == reportId }.map { it.eventId }.toSet()

    /** Every event waiting, as a sync about to start sees it. */
    @Synchronized
    fun snapshot(): List<Entry> = read()

    /**
     * After a complete sync that started when [before] was taken: those events were delivered,
     * except the ones on the cases in [refusedReports] (the server refused the document).
     */
    @Synchronized
    fun delivered(before: List<Entry>, refusedReports: Set<String>) {
        val sent = before.filter { it.reportId !in refusedReports }.map { it.eventId }.toSet()
        if (sent.isEmpty()) return
        write(read().filter { it.eventId !in sent })
    }

    private fun read(): List<Entry> = store.get(KEY).orEmpty().lines().mapNotNull { line ->
        val parts = line.split('\t')
        if (parts.size == 2 && parts.all { it.isNotBlank() }) Entry(parts[0], parts[1]) else null
    }

    private fun write(entries: List<Entry>) {
        store.edit(mapOf(KEY to entries.takeIf { it.isNotEmpty() }?.joinToString("\n") { "${it.reportId}\t${it.eventId}" }))
    }

    companion object {
        /** The store's key: one `reportId<TAB>eventId` per line. */
        const val KEY = "pending_case_events"

        /** The case document id of a report, as sync refusals name it (`case:<report id>`). */
        fun caseDocId(reportId: String): String = "case:$reportId"
    }
}

/** A [StringStore] in memory: the JVM tests', and a phone's before its preferences open. */
class MemoryStringStore : StringStore {
    private val values = java.util.concurrent.ConcurrentHashMap<String, String>()

    override fun get(name: String): String? = values[name]

    @Synchronized
    override fun edit(changes: Map<String, String?>) {
        changes.forEach { (name, value) -> if (value == null) values.remove(name) else values[name] = value }
    }
}
