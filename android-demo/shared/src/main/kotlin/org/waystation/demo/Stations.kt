package org.waystation.demo

import java.time.Clock
import org.waystation.*
import org.waystation.core.*

/** A service the rider can filter on, with its label in the interface language. */
data class ServiceChoice(val service: Service, val label: String, val selected: Boolean)

/** One line of the station list, ready to show. */
data class StationRow(
    val id: String,
    val name: String,
    val address: String,
    val distance: String,
    val bearing: String,
    val status: String,
    /** Drives the colour of the status: only [OpenStatus.OPEN] is shown as open. */
    val openStatus: OpenStatus,
    val services: String,
    val phone: String?,
    /** Where it is, WGS-84: what the "navigate" hand-offs convert ([mapHandoffs]). */
    val position: Position,
)

/** What the station screen shows after a query. */
data class StationsScreen(val rows: List<StationRow>, val emptyMessage: String?)

/**
 * The nearest-stations screen: the service filter and the "open now" switch as state, and a
 * query that turns the core's hits into rows. Every call reads only memory in the core, but
 * call it off the main thread all the same (the first one after start-up waits for the index).
 *
 * @param clock evaluates opening hours; tests pass a fixed clock.
 */
class StationsViewModel(
    private val core: WaystationInterface,
    private val lang: Lang,
    private val clock: Clock = Clock.systemUTC(),
    /** How many stations to list. */
    val limit: Int = 10,
) {
    private val labels: Map<Service, String> =
        allServices().associate { it.service to if (lang == Lang.ZH) it.labelZh else it.labelEn }

    /** Services a station must all offer. */
    var selectedServices: Set<Service> = emptySet()
        private set

    /** Only stations known to be open; unknown hours are left out, never shown as open. */
    var openOnly: Boolean = true

    /** Every service, in the core's order, with whether it is selected. */
    fun serviceChoices(): List<ServiceChoice> =
        labels.map { (service, label) -> ServiceChoice(service, label, service in selectedServices) }

    /** Selects a service when it is not selected, and the other way round. */
    fun toggle(service: Service) {
        selectedServices = if (service in selectedServices) selectedServices - service else selectedServices + service
    }

    /** The label of a service in the interface language. */
    fun label(service: Service): String = labels[service] ?: service.name

    /** The nearest stations to [position] that pass the filters, nearest first. */
    fun nearest(position: Position): StationsScreen {
        val now = clock.instant()
        val hits = core.stations().nearest(
            NearestQuery(
                position = position,
                limit = limit,
                filter = StationFilter(services = selectedServices.toList(), openOnly = openOnly),
                at = now,
            ),
        )
        val rows = hits.map { row(it, now) }
        val empty = if (rows.isNotEmpty()) {
            null
        } else if (core.stations().count() == 0L) {
            if (lang == Lang.ZH) "尚未安装驿站数据" else "No station directory is installed yet"
        } else if (lang == Lang.ZH) {
            "没有符合条件的驿站，请减少筛选条件"
        } else {
            "No station matches these filters; try fewer services"
        }
        return StationsScreen(rows, empty)
    }

    private fun row(hit: StationHit, now: java.time.Instant): StationRow {
        val s = hit.station
        val name = when (lang) {
            Lang.ZH -> s.nameZh
            Lang.EN -> s.nameEn ?: s.nameZh
        }
        val address = when (lang) {
            Lang.ZH -> s.addressZh
            Lang.EN -> s.addressEn ?: s.addressZh
        }
        return StationRow(
            id = s.id,
            name = name,
            address = address,
            distance = formatDistance(hit.distanceM),
            bearing = formatBearing(hit.bearingDeg, lang),
            status = formatOpenStatus(hit.status, hit.nextChange, now, lang),
            openStatus = hit.status,
            services = s.services.joinToString(if (lang == Lang.ZH) "、" else ", ") { label(it) },
            phone = s.phone,
            position = s.position,
        )
    }
}
