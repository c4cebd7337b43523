package org.waystation.demo.android

import android.content.Intent
import android.os.Bundle
import android.os.Handler
import android.os.Looper
import android.os.SystemClock
import android.widget.AdapterView
import android.widget.ArrayAdapter
import android.widget.Button
import android.widget.EditText
import android.widget.LinearLayout
import android.widget.Spinner
import android.widget.TextView
import java.io.File
import java.time.Duration
import kotlinx.coroutines.launch
import org.waystation.demo.AutosavePolicy
import org.waystation.demo.ReportField
import org.waystation.demo.ReportForm
import org.waystation.demo.ReportFormState
import org.waystation.demo.SubmitResult
import org.waystation.demo.describeFix

/**
 * A hazard report draft: category, description (and the merchant for food-safety
 * categories), location from the platform with its accuracy and mock flag, camera photos,
 * every problem before sending, nearby duplicates, submit. Typed text is autosaved; every
 * other change is stored at once.
 *
 * Opened with [EXTRA_REPORT_ID] it edits that draft (or shows a submitted report read-only).
 */
class ReportActivity : Screen() {
    private lateinit var form: ReportForm
    private lateinit var content: LinearLayout
    private val autosave = AutosavePolicy()
    private val handler = Handler(Looper.getMainLooper())
    private val autosaveTask = Runnable { save() }
    private val camera = CameraCapture(this, REQUEST_PHOTO, ::attachPhoto)
    private var fixText: TextView? = null

    override fun onCreate(savedInstanceState: Bundle?) {
        super.onCreate(savedInstanceState)
        title = t("隐患报告", "Hazard report")
        form = ReportForm(graph.core, graph.user, lang, clock = graph.clock)
        content = scrollingScreen()
        camera.restore(savedInstanceState)
        val id = savedInstanceState?.getString(STATE_ID) ?: intent.getStringExtra(EXTRA_REPORT_ID)
        if (id != null) work({ form.open(id) }, ::render) else chooseCategory()
    }

    override fun onSaveInstanceState(outState: Bundle) {
        super.onSaveInstanceState(outState)
        form.id?.let { outState.putString(STATE_ID, it) }
        camera.save(outState)
    }

    override fun onPause() {
        super.onPause()
        // Leaving the screen stores what was typed, whatever the autosave timer says.
        if (form.hasUnsavedEdits) save()
    }

    /** Before a draft exists: pick the category, then create it (stored at once). */
    private fun chooseCategory() {
        content.removeAllViews()
        content.heading(t("报告什么问题？", "What is the problem?"))
        val categories = form.categories()
        val spinner = Spinner(this)
        spinner.adapter = ArrayAdapter(this, android.R.layout.simple_spinner_dropdown_item, categories.map { it.label })
        content.addView(spinner)
        content.button(t("开始填写", "Start the report")) {
            val category = categories[spinner.selectedItemPosition].code
            work({ form.start(category) }) { state ->
                graph.coordinator.onLocalChange()
                render(state)
            }
        }
    }

    private fun render(state: ReportFormState) {
        content.removeAllViews()
        content.text(state.category.label, sizeSp = 20f, bold = true)
        if (!state.editable) {
            content.text(t("已提交，不能再修改", "Submitted: it can no longer be changed"), color = Palette.MUTED)
            content.text(state.description)
            state.position?.let { content.text(it, sizeSp = 14f) }
            content.button(t("查看处理进度", "Case timeline")) {
                startActivity(CaseActivity.intent(this, state.id))
            }
            return
        }

        content.text(t("类别", "Category"), bold = true)
        val categories = form.categories()
        val spinner = Spinner(this)
        spinner.adapter = ArrayAdapter(this, android.R.layout.simple_spinner_dropdown_item, categories.map { it.label })
        spinner.setSelection(categories.indexOfFirst { it.code == state.category.code }.coerceAtLeast(0), false)
        spinner.onItemSelectedListener = object : AdapterView.OnItemSelectedListener {
            override fun onItemSelected(parent: AdapterView<*>?, view: android.view.View?, position: Int, id: Long) {
                val code = categories[position].code
                if (code != state.category.code) work({ form.setCategory(code) }, ::render)
            }

            override fun onNothingSelected(parent: AdapterView<*>?) {}
        }
        content.addView(spinner)

        textField(ReportField.DESCRIPTION, t("描述（必填）", "Description"), state.description, multiline = true)
        if (state.needsMerchant) {
            textField(ReportField.MERCHANT_NAME, t("商户名称", "Merchant name"), state.merchantName)
            textField(ReportField.MERCHANT_ADDRESS, t("商户地址", "Merchant address"), state.merchantAddress)
        }
        textField(ReportField.ADDRESS, t("问题地点（文字）", "Where, in words"), state.address)
        if (state.needsDistrict) {
            textField(ReportField.DISTRICT, t("区县代码（如 610113 雁塔区）", "District code (e.g. 610113, Yanta)"), state.district)
        }

        content.heading(t("位置", "Location"))
        content.text(state.position ?: t("尚未记录位置", "No location yet"), sizeSp = 14f)
        fixText = content.text("", sizeSp = 14f, color = Palette.MUTED).apply { show(false) }
        content.button(t("记录我现在的位置", "Record my location")) { locate() }

        content.heading(t("照片", "Photos"))
        state.photos.forEach { photo ->
            content.card {
                text(photo.description, sizeSp = 14f)
                button(t("移除", "Remove")) { work({ form.removePhoto(photo.sha256) }, ::render) }
            }
        }
        content.button(t("拍照", "Take a photo")) { camera.start() }
        content.text(
            t("照片的 EXIF（含 GPS）会在保存前删除", "EXIF metadata, GPS included, is removed before the photo is stored"),
            sizeSp = 12f,
            color = Palette.MUTED,
        )

        if (state.duplicates.isNotEmpty()) {
            content.heading(t("附近可能相同的报告", "Possibly the same problem nearby"))
            state.duplicates.forEach { d ->
                content.card {
                    text("${d.distance} · ${d.status}")
                    d.description?.let { text(it, sizeSp = 14f, color = Palette.MUTED) }
                }
            }
        }

        if (state.problems.isNotEmpty() || state.warnings.isNotEmpty()) content.heading(t("提交前", "Before sending"))
        state.problems.forEach { content.text("✗ ${it.label}: ${it.message}", sizeSp = 14f, color = Palette.CLOSED) }
        state.warnings.forEach { content.text("⚠ ${it.label}: ${it.message}", sizeSp = 14f, color = Palette.WARNING) }

        val submit: Button = content.button(t("提交", "Submit")) { submit() }
        submit.isEnabled = state.canSubmit
        content.button(t("删除草稿", "Delete draft")) {
            work({ form.deleteDraft() }) {
                graph.coordinator.onLocalChange()
                finish()
            }
        }
    }

    private fun textField(field: ReportField, hint: String, initial: String, multiline: Boolean = false): EditText {
        content.text(hint, bold = true)
        return content.field(hint, initial, multiline) { text ->
            form.edit(field, text)
            scheduleAutosave()
        }
    }

    /** Saves when the autosave policy says so: after a pause, or at the latest 5 s after the first edit. */
    private fun scheduleAutosave() {
        val due = form.autosaveDueAt(autosave) ?: return
        val delay = Duration.between(now(), due).toMillis().coerceAtLeast(0)
        handler.removeCallbacks(autosaveTask)
        handler.postAtTime(autosaveTask, SystemClock.uptimeMillis() + delay)
    }

    private fun save() {
        handler.removeCallbacks(autosaveTask)
        // Saved on the screen's thread; the form is not redrawn, so the cursor stays put.
        work({ form.save() }) {}
    }

    private fun locate() {
        val location = PlatformLocation(this, graph.clock)
        if (!location.permitted()) {
            requestPermissions(PlatformLocation.PERMISSIONS, REQUEST_LOCATION)
            return
        }
        fixText?.apply {
            text = t("正在定位…", "Finding your position…")
            show(true)
        }
        scope.launch {
            val fix = location.locate()
            if (fix == null) {
                fixText?.text = t("没有定位结果：请到开阔处再试", "No fix: try again in the open")
                return@launch
            }
            val description = describeFix(fix, form.rules, now(), lang)
            fixText?.text = (listOf(description.summary) + description.warnings).joinToString("\n")
            // Stored even when imprecise or mock: the core flags it, and the check says whether
            // the report can be sent with it.
            work({ form.setLocation(fix) }, ::render)
        }
    }

    override fun onRequestPermissionsResult(requestCode: Int, permissions: Array<out String>, grantResults: IntArray) {
        super.onRequestPermissionsResult(requestCode, permissions, grantResults)
        if (requestCode == REQUEST_LOCATION && PlatformLocation.granted(grantResults)) locate()
    }

    override fun onActivityResult(requestCode: Int, resultCode: Int, data: Intent?) {
        super.onActivityResult(requestCode, resultCode, data)
        camera.onActivityResult(requestCode, resultCode)
    }

    /** The camera's photo, given to the core (which strips its EXIF) and then deleted. */
    private fun attachPhoto(file: File) {
        // After a process death, onCreate queued the reopening of the draft on the same
        // thread before this: the form has its id again when this runs.
        work({
            try {
                form.attachPhoto(file.readBytes())
            } finally {
                file.delete()
            }
        }, ::render)
    }

    private fun submit() {
        work({ form.submit() }) { result ->
            when (result) {
                is SubmitResult.Submitted -> {
                    graph.coordinator.onLocalChange()
                    toast(t("已提交，联网后自动发送", "Submitted: it is sent as soon as there is a connection"))
                    finish()
                }
                is SubmitResult.NotSubmitted -> {
                    toast(result.problems.joinToString("\n") { "${it.label}: ${it.message}" })
                    work({ form.state() }, ::render)
                }
            }
        }
    }

    companion object {
        const val EXTRA_REPORT_ID = "report_id"
        private const val STATE_ID = "report_id"
        private const val REQUEST_LOCATION = 1
        private const val REQUEST_PHOTO = 2
    }
}
