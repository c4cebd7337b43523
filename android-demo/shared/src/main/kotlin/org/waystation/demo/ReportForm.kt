package org.waystation.demo

import java.time.Clock
import java.time.Duration
import java.time.Instant
import org.waystation.*
import org.waystation.core.*
import kotlinx.coroutines.runBlocking

/** The free-text fields of a report draft. */
enum class ReportField(val coreName: String) {
    DESCRIPTION("description"),
    MERCHANT_NAME("merchant_name"),
    MERCHANT_ADDRESS("merchant_address"),
    ADDRESS("address"),

    /** GB/T 2260 district code; the core fills it from the nearest station within 5 km. */
    DISTRICT("district"),
}

/** A category in the picker. */
data class CategoryChoice(val code: String, val label: String, val group: CategoryGroup)

/** A problem or warning next to the field it is about. */
data class FieldMessage(val field: String, val label: String, val message: String)

/** A photo of the draft, as a list row. */
data class PhotoRow(val sha256: String, val description: String)

/** An existing report that may describe the same problem. */
data class DuplicateRow(val reportId: String, val distance: String, val status: String, val description: String?)

/** Everything the report form shows. */
data class ReportFormState(
    val id: String,
    val category: CategoryChoice,
    val editable: Boolean,
    val needsMerchant: Boolean,
    val description: String,
    val merchantName: String,
    val merchantAddress: String,
    val address: String,
    /** The district code (set by the rider, or derived by the core from the nearest station). */
    val district: String,
    /** True when the core could not derive the district: the form then asks for it. */
    val needsDistrict: Boolean,
    /** `±12 m · WGS84 · 34.22300, 108.95300`, or null before a fix was stored. */
    val position: String?,
    val photos: List<PhotoRow>,
    val problems: List<FieldMessage>,
    val warnings: List<FieldMessage>,
    val canSubmit: Boolean,
    val duplicates: List<DuplicateRow>,
)

/** What submitting gave. */
sealed class SubmitResult {
    /** Frozen and in the outbox. */
    data class Submitted(val report: Report) : SubmitResult()

    /** Not submitted; every problem at once. Nothing changed. */
    data class NotSubmitted(val problems: List<FieldMessage>) : SubmitResult()
}

/**
 * When to autosave typed text: after [quiet] without typing, and at most [maxDelay] after the
 * first unsaved keystroke, so that a rider who types without pause still has their text stored.
 */
data class AutosavePolicy(val quiet: Duration = Duration.ofMillis(800), val maxDelay: Duration = Duration.ofSeconds(5)) {
    /** When the buffered edits must be saved, given the first and the last unsaved edit. */
    fun dueAt(firstUnsavedEdit: Instant, lastEdit: Instant): Instant =
        minOf(lastEdit.plus(quiet), firstUnsavedEdit.plus(maxDelay))
}

/**
 * The report draft form over one draft. Every change is stored by the core before the call
 * returns; typed text is buffered by [edit] and stored by [save] (call it when
 * [AutosavePolicy.dueAt] comes, and when the screen is left). Calls block on the database:
 * call them off the main thread.
 */
class ReportForm(
    private val core: WaystationInterface,
    private val author: String,
    private val lang: Lang,
    val rules: ReportRules = defaultReportRules(),
    private val clock: Clock = Clock.systemUTC(),
    private val duplicateRules: DuplicateRules = DuplicateRules(),
) {
    private val categories = reportCategories()
        .map { CategoryChoice(it.code, if (lang == Lang.ZH) it.labelZh else it.labelEn, it.group) }
    private val buffered = LinkedHashMap<ReportField, String>()
    private var firstUnsavedEdit: Instant? = null
    private var lastEdit: Instant? = null

    /** The draft's id, once [start] or [open] was called. */
    var id: String? = null
        private set

    /** Categories for the picker, in the core's order. */
    fun categories(): List<CategoryChoice> = categories

    /** Creates a new draft in [category] (stored before this returns). */
    fun start(category: String): ReportFormState {
        id = core.reports().createDraft(author, category)
        return state()
    }

    /** Opens an existing report (a draft to edit, or a submitted one read-only). */
    fun open(reportId: String): ReportFormState {
        core.reports().get(reportId) // NotFound for an unknown id, before anything changes
        id = reportId
        buffered.clear()
        return state()
    }

    /** Buffers typed text; nothing is stored until [save]. */
    fun edit(field: ReportField, text: String) {
        val now = clock.instant()
        buffered[field] = text
        if (firstUnsavedEdit == null) firstUnsavedEdit = now
        lastEdit = now
    }

    /** True when typed text waits for [save]. */
    val hasUnsavedEdits: Boolean get() = buffered.isNotEmpty()

    /** When the buffered text must be saved under [policy]; null when nothing is buffered. */
    fun autosaveDueAt(policy: AutosavePolicy = AutosavePolicy()): Instant? {
        val first = firstUnsavedEdit ?: return null
        return policy.dueAt(first, lastEdit ?: first)
    }

    /** Stores the buffered text in one update. The buffer is kept when the core refuses it. */
    fun save(): ReportFormState {
        flush()
        return state()
    }

    /** Stores the buffered text; every other change calls it first, so the check sees it. */
    private fun flush() {
        val reportId = requireId()
        if (buffered.isNotEmpty()) {
            core.reports().updateDraft(
                reportId,
                ReportPatch(
                    description = buffered[ReportField.DESCRIPTION],
                    merchantName = buffered[ReportField.MERCHANT_NAME],
                    merchantAddress = buffered[ReportField.MERCHANT_ADDRESS],
                    address = buffered[ReportField.ADDRESS],
                    district = buffered[ReportField.DISTRICT],
                ),
            )
            buffered.clear()
            firstUnsavedEdit = null
            lastEdit = null
        }
    }

    /** Changes the category (stored at once, with the buffered text). */
    fun setCategory(code: String): ReportFormState {
        flush()
        core.reports().updateDraft(requireId(), ReportPatch(category = code))
        return state()
    }

    /** Stores where the report was made. The core refuses absurd fixes and changes nothing. */
    fun setLocation(fix: PlatformFix): ReportFormState {
        flush()
        core.reports().setPosition(requireId(), fix.toLocationFix())
        return state()
    }

    /**
     * Attaches a camera photo; metadata is stripped by the core before it is stored. The core
     * call is a suspend function (it reads and rewrites the image); like every call of this
     * form, this one blocks its caller, a screen's background thread.
     */
    fun attachPhoto(bytes: ByteArray): ReportFormState {
        flush()
        runBlocking { core.reports().attachPhoto(requireId(), bytes, rules) }
        return state()
    }

    /** Detaches a photo. */
    fun removePhoto(sha256: String): ReportFormState {
        flush()
        core.reports().removePhoto(requireId(), sha256)
        return state()
    }

    /** Deletes the draft (only a draft, only by its author). */
    fun deleteDraft() {
        core.reports().deleteDraft(author, requireId())
        id = null
        buffered.clear()
    }

    /** Saves buffered text, then submits. A refusal lists every problem and changes nothing. */
    fun submit(): SubmitResult {
        flush()
        val reportId = requireId()
        val check = core.reports().check(reportId, rules)
        if (check.problems.isNotEmpty()) return SubmitResult.NotSubmitted(check.problems.map { message(it.field, it.message) })
        return try {
            SubmitResult.Submitted(core.reports().submit(author, reportId, rules))
        } catch (e: WaystationException.InvalidInput) {
            SubmitResult.NotSubmitted(listOf(message("report", e.reason)))
        }
    }

    /** The form as stored, with the buffered text over it, checked against the rules. */
    fun state(): ReportFormState {
        val reportId = requireId()
        val report = core.reports().get(reportId)
        val category = categories.firstOrNull { it.code == report.category }
            ?: CategoryChoice(report.category, report.category, CategoryGroup.OTHER)
        val needsMerchant = reportCategories().firstOrNull { it.code == report.category }?.needsMerchant ?: false
        val draft = report.status == ReportStatus.DRAFT
        val check = if (draft) core.reports().check(reportId, rules) else null
        val duplicates = if (draft && report.position != null) {
            core.reports().nearbyDuplicates(reportId, duplicateRules).map {
                DuplicateRow(
                    reportId = it.report.id,
                    distance = formatDistance(it.distanceM),
                    status = caseStatusLabel(it.caseStatus, lang),
                    description = it.report.description,
                )
            }
        } else {
            emptyList()
        }
        return ReportFormState(
            id = reportId,
            category = category,
            editable = draft,
            needsMerchant = needsMerchant,
            description = buffered[ReportField.DESCRIPTION] ?: report.description.orEmpty(),
            merchantName = buffered[ReportField.MERCHANT_NAME] ?: report.merchantName.orEmpty(),
            merchantAddress = buffered[ReportField.MERCHANT_ADDRESS] ?: report.merchantAddress.orEmpty(),
            address = buffered[ReportField.ADDRESS] ?: report.address.orEmpty(),
            district = buffered[ReportField.DISTRICT] ?: report.district.orEmpty(),
            needsDistrict = check?.problems.orEmpty().any { it.field == "district" } || ReportField.DISTRICT in buffered,
            position = report.position?.let {
                val flag = if (it.mock) (if (lang == Lang.ZH) " · 模拟定位" else " · mock") else ""
                "${formatAccuracy(it.accuracyM, lang)} · %.5f, %.5f (WGS-84)$flag".format(it.lat, it.lon)
            },
            photos = report.photos.map { photo ->
                val size = "%.1f KB".format(photo.sizeBytes.toDouble() / 1024.0)
                val dims = if (photo.width != null && photo.height != null) "${photo.width}×${photo.height} · " else ""
                PhotoRow(photo.sha256, "$dims$size · ${photo.mediaType}")
            },
            problems = check?.problems.orEmpty().map { message(it.field, it.message) },
            warnings = check?.warnings.orEmpty().map { message(it.field, it.message) },
            canSubmit = check?.problems?.isEmpty() ?: false,
            duplicates = duplicates,
        )
    }

    private fun message(field: String, text: String) = FieldMessage(field, fieldLabel(field, lang), fieldProblem(field, text, lang))

    private fun requireId(): String = id ?: throw IllegalStateException("no draft: call start() or open() first")
}

/** The label of a report field named by the core (`merchant_name`, `position`, …). */
fun fieldLabel(field: String, lang: Lang): String {
    val zh = lang == Lang.ZH
    return when (field) {
        "description" -> if (zh) "描述" else "Description"
        "merchant_name" -> if (zh) "商户名称" else "Merchant name"
        "merchant_address" -> if (zh) "商户地址" else "Merchant address"
        "merchant" -> if (zh) "商户" else "Merchant"
        "address" -> if (zh) "地点" else "Address"
        "position" -> if (zh) "位置" else "Location"
        "photos" -> if (zh) "照片" else "Photos"
        "category" -> if (zh) "类别" else "Category"
        "district" -> if (zh) "所属区县" else "District"
        else -> field
    }
}

/**
 * A problem the core found with a field, in the interface language. The core explains in
 * English; in Chinese the app says, per field, what the rider must do (the core's checks on a
 * field are few and each asks for the same fix). A field without a Chinese text keeps the
 * core's English, which the Robolectric language test (LanguageTest) catches.
 */
fun fieldProblem(field: String, coreMessage: String, lang: Lang): String {
    if (lang != Lang.ZH) return coreMessage
    return when (field) {
        "description" -> "请描述问题"
        "merchant_name", "merchant_address", "merchant" -> "食品安全类报告需要填写商户名称或地址"
        "address" -> "请用文字说明问题地点"
        "position" -> "缺少位置：每份报告都需要记录发现问题的地点"
        "photos" -> "照片有问题：请重新拍摄或移除"
        "category" -> "请选择问题类别"
        "district" -> "区县未知：请填写区县代码，或记录位置（取附近驿站所在区县）"
        else -> coreMessage
    }
}

/** What went wrong, for a message on screen. The reasons carry no personal data. */
fun userMessage(error: Throwable, lang: Lang): String {
    val zh = lang == Lang.ZH
    return when (error) {
        is WaystationException.InvalidInput -> error.reason
        is WaystationException.NotFound -> if (zh) "找不到：${error.reason}" else "Not found: ${error.reason}"
        is WaystationException.PackRejected -> if (zh) "数据包被拒绝：${error.reason}" else "Pack refused: ${error.reason}"
        is WaystationException.DataDirectory -> if (zh) "数据目录不可用：${error.reason}" else "Data directory unusable: ${error.reason}"
        is WaystationException.SchemaTooNew -> if (zh) "数据来自更新的版本，请更新应用" else "The data was written by a newer app: update the app"
        is WaystationException.Storage -> if (zh) "本地存储出错：${error.reason}" else "Storage failed: ${error.reason}"
        is WaystationException -> if (zh) "内部错误，请报告" else "Internal error; please report it"
        else -> error.message ?: error.javaClass.simpleName
    }
}
