package org.waystation.demo.android

import android.app.Activity
import android.content.Context
import android.graphics.Bitmap
import android.graphics.BitmapFactory
import android.graphics.Color
import android.graphics.Typeface
import android.text.Editable
import android.text.InputType
import android.text.TextWatcher
import android.util.TypedValue
import android.view.Gravity
import android.view.View
import android.view.ViewGroup
import android.widget.Button
import android.widget.CheckBox
import android.widget.EditText
import android.widget.ImageView
import android.widget.LinearLayout
import android.widget.ScrollView
import android.widget.TextView
import org.waystation.demo.Lang

/*
 * Plain Android views built in code: no XML layouts, so no generated R class and no resource
 * compiler, which keeps these screens compilable against the bare framework jar in CI (see
 * platform-check/pom.xml). A production app would use Compose or XML layouts.
 */

/** Text in the interface language. */
fun Lang.t(zh: String, en: String): String = if (this == Lang.ZH) zh else en

fun Context.dp(value: Int): Int =
    TypedValue.applyDimension(TypedValue.COMPLEX_UNIT_DIP, value.toFloat(), resources.displayMetrics).toInt()

/**
 * Sets a scrolling, vertical screen as the activity's content and returns its column. The
 * root fits the system bars (Android 15 draws apps edge to edge).
 */
fun Activity.scrollingScreen(): LinearLayout {
    val column = LinearLayout(this).apply {
        orientation = LinearLayout.VERTICAL
        val pad = dp(16)
        setPadding(pad, pad, pad, pad)
    }
    val scroll = ScrollView(this).apply {
        fitsSystemWindows = true
        addView(column, ViewGroup.LayoutParams(ViewGroup.LayoutParams.MATCH_PARENT, ViewGroup.LayoutParams.WRAP_CONTENT))
    }
    setContentView(scroll)
    return column
}

private fun ViewGroup.fullWidth(): ViewGroup.LayoutParams =
    LinearLayout.LayoutParams(ViewGroup.LayoutParams.MATCH_PARENT, ViewGroup.LayoutParams.WRAP_CONTENT).apply {
        topMargin = context.dp(4)
    }

fun ViewGroup.text(value: String, sizeSp: Float = 16f, bold: Boolean = false, color: Int? = null): TextView {
    val view = TextView(context).apply {
        text = value
        setTextSize(TypedValue.COMPLEX_UNIT_SP, sizeSp)
        if (bold) typeface = Typeface.DEFAULT_BOLD
        // Near-black unless a meaning colours it: the theme's grey is too faint in sunlight.
        setTextColor(color ?: Palette.TEXT)
        setTextIsSelectable(false)
    }
    addView(view, fullWidth())
    return view
}

fun ViewGroup.heading(value: String): TextView = text(value, sizeSp = 20f, bold = true).apply {
    setPadding(0, context.dp(12), 0, context.dp(4))
}

/**
 * An image as wide as the column, its height following its aspect ratio; [description] is
 * what a screen reader says.
 */
fun ViewGroup.image(bitmap: Bitmap, description: String): ImageView {
    val view = ImageView(context).apply {
        setImageBitmap(bitmap)
        adjustViewBounds = true
        scaleType = ImageView.ScaleType.FIT_CENTER
        contentDescription = description
    }
    addView(view, fullWidth())
    return view
}

/**
 * An image file decoded with `BitmapFactory.decodeFile`, sampled down by powers of two while it
 * stays at least [maxWidthPx] wide, so a large picture does not take tens of megabytes. Null
 * when the file cannot be read or decoded. Blocking: call it off the main thread.
 */
fun decodeImageFile(path: String, maxWidthPx: Int): Bitmap? {
    val bounds = BitmapFactory.Options().apply { inJustDecodeBounds = true }
    BitmapFactory.decodeFile(path, bounds)
    if (bounds.outWidth <= 0 || bounds.outHeight <= 0) return null
    var sample = 1
    while (bounds.outWidth / (sample * 2) >= maxWidthPx) sample *= 2
    return BitmapFactory.decodeFile(path, BitmapFactory.Options().apply { inSampleSize = sample })
}

fun ViewGroup.button(label: String, onClick: () -> Unit): Button {
    val view = Button(context).apply {
        text = label
        isAllCaps = false
        setOnClickListener { onClick() }
    }
    addView(view, fullWidth())
    return view
}

fun ViewGroup.checkBox(label: String, checked: Boolean, onChange: (Boolean) -> Unit): CheckBox {
    val view = CheckBox(context).apply {
        text = label
        isChecked = checked
        minHeight = context.dp(TOUCH_DP)
        setOnCheckedChangeListener { _, isChecked -> onChange(isChecked) }
    }
    addView(view, fullWidth())
    return view
}

/**
 * A filter chip: a check box as wide as its label, for a [FlowLayout] row. At least 48 dp both
 * ways, like every control a finger taps.
 */
fun ViewGroup.chip(label: String, checked: Boolean, onChange: (Boolean) -> Unit): CheckBox {
    val view = CheckBox(context).apply {
        text = label
        isChecked = checked
        minHeight = context.dp(TOUCH_DP)
        minWidth = context.dp(TOUCH_DP)
        setPadding(paddingLeft, paddingTop, context.dp(8), paddingBottom)
        setOnCheckedChangeListener { _, isChecked -> onChange(isChecked) }
    }
    addView(view, ViewGroup.LayoutParams(ViewGroup.LayoutParams.WRAP_CONTENT, ViewGroup.LayoutParams.WRAP_CONTENT))
    return view
}

/** A text field that reports every change (the report form buffers them for autosave). */
fun ViewGroup.field(hint: String, initial: String, multiline: Boolean = false, onChange: (String) -> Unit): EditText {
    val view = EditText(context).apply {
        this.hint = hint
        setText(initial)
        inputType = if (multiline) {
            InputType.TYPE_CLASS_TEXT or InputType.TYPE_TEXT_FLAG_MULTI_LINE or InputType.TYPE_TEXT_FLAG_CAP_SENTENCES
        } else {
            InputType.TYPE_CLASS_TEXT
        }
        // After inputType: a single-line type sets the minimum to one line, replacing a height.
        if (multiline) minLines = 3 else minHeight = context.dp(TOUCH_DP)
        // A box of several lines is written from its top, where the hint then stands too.
        if (multiline) gravity = Gravity.TOP or Gravity.START
        addTextChangedListener(object : TextWatcher {
            override fun beforeTextChanged(s: CharSequence?, start: Int, count: Int, after: Int) {}
            override fun onTextChanged(s: CharSequence?, start: Int, before: Int, count: Int) {}
            override fun afterTextChanged(s: Editable?) = onChange(s?.toString().orEmpty())
        })
    }
    addView(view, fullWidth())
    return view
}

/** A tappable card: a vertical group with a light background. */
fun ViewGroup.card(onClick: (() -> Unit)? = null, build: LinearLayout.() -> Unit): LinearLayout {
    val view = LinearLayout(context).apply {
        orientation = LinearLayout.VERTICAL
        val pad = context.dp(12)
        setPadding(pad, pad, pad, pad)
        setBackgroundColor(Color.rgb(245, 242, 238))
        if (onClick != null) {
            isClickable = true
            setOnClickListener { onClick() }
        }
        build()
    }
    addView(view, LinearLayout.LayoutParams(ViewGroup.LayoutParams.MATCH_PARENT, ViewGroup.LayoutParams.WRAP_CONTENT).apply {
        topMargin = context.dp(8)
    })
    return view
}

/** Removes every child after the first [keep] ones (for regions that are redrawn). */
fun ViewGroup.clearFrom(keep: Int) {
    while (childCount > keep) removeViewAt(childCount - 1)
}

/** A column to redraw on its own, inside a screen. */
fun ViewGroup.region(): LinearLayout {
    val view = LinearLayout(context).apply { orientation = LinearLayout.VERTICAL }
    addView(view, fullWidth())
    return view
}

/**
 * The smallest touch target, in dp (Android's accessibility guidance). Buttons have it from
 * the theme; check boxes and radio buttons are 32 dp tall, and one-line text fields 45, unless told.
 */
const val TOUCH_DP = 48

fun View.show(visible: Boolean) {
    visibility = if (visible) View.VISIBLE else View.GONE
}

/** Colours with a meaning. */
object Palette {
    val OPEN: Int = Color.rgb(27, 122, 61)
    val CLOSED: Int = Color.rgb(160, 40, 40)
    val UNKNOWN: Int = Color.rgb(110, 110, 110)
    val WARNING: Int = Color.rgb(170, 95, 0)
    val MUTED: Int = Color.rgb(90, 90, 90)

    /** Body text and headings: near-black, readable in sunlight on the light cards. */
    val TEXT: Int = Color.rgb(25, 25, 25)
}
