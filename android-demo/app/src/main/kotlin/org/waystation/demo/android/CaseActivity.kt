package org.waystation.demo.android

import android.content.Context
import android.content.Intent
import android.graphics.Bitmap
import android.os.Bundle
import android.widget.Button
import android.widget.LinearLayout
import java.io.File
import kotlinx.coroutines.launch
import org.waystation.demo.CaseAction
import org.waystation.demo.CaseDetail
import org.waystation.demo.CaseViewModel
import org.waystation.demo.CasePhoto
import org.waystation.demo.hint
import org.waystation.demo.label
import org.waystation.demo.userMessage

/**
 * A submitted report's case: the report (category, description, merchant, place, photos,
 * fetched from the server when tapped), the derived status and every event, oldest first.
 *
 * A rider (from the outbox) reads it. A station, supervisor or grid account (from the inbox;
 * the role is the one the server told the phone at its last sync) also gets the actions its
 * role may take in the case's status: acknowledge, dispatch to a grid, note, inspection note,
 * resolve, reject with a reason. Each is saved on the phone at once and sent at the next sync;
 * the screen says what is still waiting.
 */
class CaseActivity : Screen() {
    private lateinit var column: LinearLayout
    private lateinit var vm: CaseViewModel
    private lateinit var reportId: String

    /** What is typed in each action's field, kept when the screen is redrawn. */
    private val typed = mutableMapOf<CaseAction, String>()

    /** The camera app, for the inspection photo. */
    private val camera = CameraCapture(this, REQUEST_PHOTO, ::photoTaken)

    /** The inspection photo taken, sent with the inspection note. */
    private var inspectionPhoto: File? = null

    override fun onCreate(savedInstanceState: Bundle?) {
        super.onCreate(savedInstanceState)
        title = t("处理进度", "Case timeline")
        column = scrollingScreen()
        reportId = intent.getStringExtra(EXTRA_REPORT_ID) ?: return finish()
        vm = CaseViewModel(graph.core, lang, graph.pendingActions, graph.clock)
        camera.restore(savedInstanceState)
        load()
    }

    /** The case, and the photos the phone has, decoded off the main thread. */
    private fun load() {
        val width = resources.displayMetrics.widthPixels
        work({
            val detail = vm.load(reportId)
            val photos = detail.report.photos + detail.events.flatMap { it.photos }
            detail to photos.mapNotNull { p -> p.path?.let { path -> decodeImageFile(path, width)?.let { p.sha256 to it } } }.toMap()
        }) { (detail, bitmaps) -> show(detail, bitmaps) }
    }

    private fun show(detail: CaseDetail, bitmaps: Map<String, Bitmap>) {
        column.removeAllViews()
        val case = detail.case
        column.heading(case.status)
        column.text(case.open311, sizeSp = 14f, color = Palette.MUTED)
        case.grid?.let { column.text(it) }
        detail.waiting?.let { column.text(it, bold = true, color = if (detail.refused || detail.waitingCount > 0) Palette.WARNING else Palette.OPEN) }

        showReport(detail, bitmaps)
        showActions(detail)

        column.heading(t("处理记录", "Timeline"))
        if (detail.events.isEmpty()) column.text(t("还没有人跟进", "Nobody has followed it up yet"), color = Palette.MUTED)
        detail.events.forEach { event ->
            val row = event.row
            column.card {
                text("${row.time} · ${row.who}", sizeSp = 13f, color = Palette.MUTED)
                text(row.what, bold = true)
                row.note?.let { text(it, sizeSp = 14f) }
                event.photos.forEach { photo -> showPhoto(this, photo, bitmaps[photo.sha256]) }
                if (event.waiting) text(t("保存在手机上，等待发送", "Saved on this phone, waiting to be sent"), sizeSp = 13f, color = Palette.WARNING)
                if (!row.applied) {
                    text(t("未生效：", "Not applied: ") + row.notAppliedBecause.orEmpty(), sizeSp = 13f, color = Palette.WARNING)
                }
            }
        }
        if (case.unreadable > 0) {
            column.text(
                t("${case.unreadable} 条记录来自更新的版本，请更新应用", "${case.unreadable} events come from a newer app version: update the app"),
                color = Palette.WARNING,
            )
        }
    }

    private fun showReport(detail: CaseDetail, bitmaps: Map<String, Bitmap>) {
        val report = detail.report
        column.heading(t("报告", "Report"))
        column.card {
            text(report.category, bold = true)
            report.description?.let { text(it) }
            report.merchant?.let { text(it, sizeSp = 14f) }
            report.place?.let { text(it, sizeSp = 14f) }
            text(report.reported, sizeSp = 13f, color = Palette.MUTED)
        }
        if (report.photos.isEmpty()) column.text(t("没有照片", "No photos"), sizeSp = 14f, color = Palette.MUTED)
        report.photos.forEach { photo -> showPhoto(column, photo, bitmaps[photo.sha256]) }
    }

    /** The photo when the phone has it; otherwise a button that fetches it from the server. */
    private fun showPhoto(into: LinearLayout, photo: CasePhoto, bitmap: Bitmap?) {
        if (photo.path != null) {
            if (bitmap != null) {
                into.image(bitmap, photo.label)
            } else {
                into.text(photo.label + t("（无法显示）", " (cannot be shown)"), sizeSp = 14f, color = Palette.WARNING)
            }
            return
        }
        val account = graph.syncAccount
        val fetch = into.button(photo.fetchLabel) { fetchPhoto(photo) }
        if (account == null) {
            fetch.isEnabled = false
            into.text(t("设置同步服务器后可下载照片", "Set up the sync server to fetch photos"), sizeSp = 13f, color = Palette.MUTED)
        }
    }

    private fun fetchPhoto(photo: CasePhoto) {
        val account = graph.syncAccount ?: return
        scope.launch {
            try {
                vm.fetchPhoto(photo.sha256, account)
                load()
            } catch (e: kotlinx.coroutines.CancellationException) {
                throw e
            } catch (e: Exception) {
                toast(t("照片下载失败：", "The photo could not be fetched: ") + userMessage(e, lang))
            }
        }
    }

    /** The account's actions, each with the text it needs; nothing for a rider. */
    private fun showActions(detail: CaseDetail) {
        detail.actionsNotice?.let { column.text(it, color = Palette.WARNING) }
        if (detail.actions.isEmpty()) return
        column.heading(t("处理", "Follow up"))
        detail.actions.forEach { action ->
            if (!action.needsText) {
                column.button(action.label(lang)) { act(action, "") }
                return@forEach
            }
            column.card {
                lateinit var button: Button
                field(action.hint(lang), typed[action].orEmpty(), multiline = action != CaseAction.DISPATCH) { value ->
                    typed[action] = value
                    button.isEnabled = value.isNotBlank()
                }
                if (action == CaseAction.INSPECTION) {
                    // Optional: the note is recorded with or without it.
                    val photo = inspectionPhoto
                    if (photo == null) {
                        button(t("拍照（可选）", "Take a photo (optional)")) { camera.start() }
                    } else {
                        text(t("已附照片（${photo.length() / 1024} KB）", "Photo attached (${photo.length() / 1024} KB)"), sizeSp = 14f)
                        button(t("去掉照片", "Remove the photo")) {
                            photo.delete()
                            inspectionPhoto = null
                            load()
                        }
                    }
                }
                button = button(action.label(lang)) { act(action, typed[action].orEmpty()) }
                button.isEnabled = !typed[action].isNullOrBlank()
            }
        }
    }

    private fun act(action: CaseAction, text: String) {
        val photo = inspectionPhoto.takeIf { action == CaseAction.INSPECTION }
        work({
            vm.act(reportId, action, text, photo?.readBytes()).also { graph.coordinator.onLocalChange() }
        }) { message ->
            typed.remove(action)
            if (photo != null) {
                photo.delete()
                inspectionPhoto = null
            }
            toast(message)
            load()
        }
    }

    override fun onSaveInstanceState(outState: Bundle) {
        super.onSaveInstanceState(outState)
        camera.save(outState)
    }

    override fun onActivityResult(requestCode: Int, resultCode: Int, data: Intent?) {
        super.onActivityResult(requestCode, resultCode, data)
        camera.onActivityResult(requestCode, resultCode)
    }

    /** The inspection photo taken (it replaces an earlier one), sent with the inspection note. */
    private fun photoTaken(file: File) {
        inspectionPhoto?.delete()
        inspectionPhoto = file
        load()
    }

    companion object {
        const val EXTRA_REPORT_ID = "report_id"
        private const val REQUEST_PHOTO = 3

        /** Opens the case of the report [reportId] (from the report, the outbox or the inbox). */
        fun intent(context: Context, reportId: String): Intent =
            Intent(context, CaseActivity::class.java).putExtra(EXTRA_REPORT_ID, reportId)
    }
}
