package org.waystation.demo.android

import android.content.Context
import android.view.View
import android.view.ViewGroup

/**
 * Lays its children out left to right and wraps to a new line when the next one does not fit,
 * so that every chip of a filter row is on screen whatever the language and font scale (a
 * horizontally scrolling row hid the last chips past the right edge, with nothing to say they
 * were there). The platform has no such layout without AndroidX or Material's ChipGroup.
 *
 * Children are measured at their wanted size, capped at the row's width; [spacing] pixels
 * separate them both ways.
 */
class FlowLayout(context: Context, private val spacing: Int) : ViewGroup(context) {
    override fun onMeasure(widthMeasureSpec: Int, heightMeasureSpec: Int) {
        val maxWidth = MeasureSpec.getSize(widthMeasureSpec) - paddingLeft - paddingRight
        val bounded = MeasureSpec.getMode(widthMeasureSpec) != MeasureSpec.UNSPECIFIED
        var x = 0
        var lineHeight = 0
        var height = 0
        var widest = 0
        for (i in 0 until childCount) {
            val child = getChildAt(i)
            if (child.visibility == View.GONE) continue
            val childWidthSpec = if (bounded) {
                MeasureSpec.makeMeasureSpec(maxWidth, MeasureSpec.AT_MOST)
            } else {
                MeasureSpec.makeMeasureSpec(0, MeasureSpec.UNSPECIFIED)
            }
            child.measure(childWidthSpec, MeasureSpec.makeMeasureSpec(0, MeasureSpec.UNSPECIFIED))
            val w = child.measuredWidth
            if (bounded && x > 0 && x + w > maxWidth) {
                height += lineHeight + spacing
                x = 0
                lineHeight = 0
            }
            x += w + spacing
            widest = maxOf(widest, x - spacing)
            lineHeight = maxOf(lineHeight, child.measuredHeight)
        }
        height += lineHeight
        val width = if (bounded) MeasureSpec.getSize(widthMeasureSpec) else widest + paddingLeft + paddingRight
        setMeasuredDimension(
            resolveSize(width, widthMeasureSpec),
            resolveSize(height + paddingTop + paddingBottom, heightMeasureSpec),
        )
    }

    override fun onLayout(changed: Boolean, l: Int, t: Int, r: Int, b: Int) {
        val maxWidth = r - l - paddingLeft - paddingRight
        var x = 0
        var y = 0
        var lineHeight = 0
        for (i in 0 until childCount) {
            val child = getChildAt(i)
            if (child.visibility == View.GONE) continue
            val w = child.measuredWidth
            if (x > 0 && x + w > maxWidth) {
                y += lineHeight + spacing
                x = 0
                lineHeight = 0
            }
            child.layout(paddingLeft + x, paddingTop + y, paddingLeft + x + w, paddingTop + y + child.measuredHeight)
            x += w + spacing
            lineHeight = maxOf(lineHeight, child.measuredHeight)
        }
    }
}
