package org.waystation.demo.android

import android.content.ContentProvider
import android.content.ContentValues
import android.content.Context
import android.database.Cursor
import android.database.MatrixCursor
import android.net.Uri
import android.os.ParcelFileDescriptor
import android.provider.OpenableColumns
import java.io.File
import java.io.FileNotFoundException

/**
 * Hands the camera app a file to write the photo into, through a content:// URI with a
 * temporary write grant (what AndroidX's FileProvider does, in the platform API alone). Files
 * live in the app's cache; the report form reads the bytes, gives them to the core (which
 * strips EXIF, GPS included, and stores its own copy) and deletes the file.
 */
class PhotoProvider : ContentProvider() {
    override fun onCreate(): Boolean = true

    override fun openFile(uri: Uri, mode: String): ParcelFileDescriptor {
        val file = fileFor(uri) ?: throw FileNotFoundException("no such photo")
        return ParcelFileDescriptor.open(file, ParcelFileDescriptor.parseMode(mode))
    }

    override fun getType(uri: Uri): String = "image/jpeg"

    override fun query(
        uri: Uri,
        projection: Array<out String>?,
        selection: String?,
        selectionArgs: Array<out String>?,
        sortOrder: String?,
    ): Cursor {
        // Some camera apps ask for the name and size of the target.
        val file = fileFor(uri) ?: throw FileNotFoundException("no such photo")
        val columns = arrayOf(OpenableColumns.DISPLAY_NAME, OpenableColumns.SIZE)
        return MatrixCursor(columns, 1).apply { addRow(arrayOf<Any>(file.name, file.length())) }
    }

    override fun insert(uri: Uri, values: ContentValues?): Uri? = null

    override fun update(uri: Uri, values: ContentValues?, selection: String?, selectionArgs: Array<out String>?): Int = 0

    override fun delete(uri: Uri, selection: String?, selectionArgs: Array<out String>?): Int = 0

    private fun fileFor(uri: Uri): File? {
        val context = context ?: return null
        val name = uri.lastPathSegment ?: return null
        // One flat directory, names we made: nothing like "../" gets through.
        if (!SAFE_NAME.matches(name)) return null
        return File(directory(context), name)
    }

    companion object {
        private val SAFE_NAME = Regex("[A-Za-z0-9_-]{1,64}\\.jpg")

        fun directory(context: Context): File = File(context.cacheDir, "camera").apply { mkdirs() }

        fun authority(context: Context): String = context.packageName + ".photos"

        /** A new empty file for the camera, and the URI to hand it. */
        fun newPhoto(context: Context): Pair<File, Uri> {
            val file = File(directory(context), "shot-${System.currentTimeMillis()}.jpg")
            file.createNewFile()
            val uri = Uri.Builder().scheme("content").authority(authority(context)).appendPath(file.name).build()
            return file to uri
        }
    }
}
