package org.waystation.demo.android

import android.app.Activity
import android.content.ActivityNotFoundException
import android.content.Intent
import android.os.Bundle
import android.provider.MediaStore
import android.widget.Toast
import java.io.File

/**
 * A photo from the phone's camera app, for the screens that take one (a report's photos, an
 * inspection note's): the camera app writes into a file of the app's through
 * [PhotoProvider]'s content URI, with a one-time write grant, so the app needs no CAMERA
 * permission and never reads the camera app's own storage.
 *
 * The screens are written against the platform API alone (no AndroidX, so no Activity Result
 * API): the screen forwards `onActivityResult` to [onActivityResult] and its instance state to
 * [save]/[restore]. The file being written is kept in the saved state, so a photo taken while
 * Android stopped the app's process is still delivered when the screen is created again.
 *
 * [onPhoto] receives a non-empty file that is the screen's from then on (to read, keep or
 * delete). A cancelled capture, or one that wrote nothing, deletes the file and calls nothing.
 */
class CameraCapture(
    private val screen: Activity,
    private val requestCode: Int,
    private val onPhoto: (File) -> Unit,
) {
    /** The file the camera app is writing, until it returns. */
    private var pending: File? = null

    /** Opens the camera app; says so when the phone has none (nothing is left behind then). */
    fun start() {
        val (file, uri) = PhotoProvider.newPhoto(screen)
        val capture = Intent(MediaStore.ACTION_IMAGE_CAPTURE)
            .putExtra(MediaStore.EXTRA_OUTPUT, uri)
            .addFlags(Intent.FLAG_GRANT_WRITE_URI_PERMISSION or Intent.FLAG_GRANT_READ_URI_PERMISSION)
        try {
            pending = file
            screen.startActivityForResult(capture, requestCode)
        } catch (e: ActivityNotFoundException) {
            file.delete()
            pending = null
            val lang = langOf(screen.resources.configuration.locales[0])
            Toast.makeText(screen, lang.t("没有可用的相机应用", "No camera app is available"), Toast.LENGTH_LONG).show()
        }
    }

    /** Handles the camera app's answer; false when [requestCode] is not this capture's. */
    fun onActivityResult(requestCode: Int, resultCode: Int): Boolean {
        if (requestCode != this.requestCode) return false
        val file = pending ?: return true
        pending = null
        if (resultCode != Activity.RESULT_OK || file.length() == 0L) {
            file.delete()
            return true
        }
        onPhoto(file)
        return true
    }

    /** Keeps the file being written in the screen's saved state. */
    fun save(outState: Bundle) {
        pending?.let { outState.putString(STATE_PENDING, it.path) }
    }

    /** Takes the file being written back from the saved state, if the screen had one. */
    fun restore(savedInstanceState: Bundle?) {
        savedInstanceState?.getString(STATE_PENDING)?.let { pending = File(it) }
    }

    private companion object {
        const val STATE_PENDING = "pending_photo"
    }
}
