package org.waystation.demo.robolectric

import android.Manifest
import android.app.Activity
import android.location.Location
import android.location.LocationManager
import android.net.Uri
import android.provider.MediaStore
import android.widget.EditText
import android.widget.Spinner
import org.junit.Assert.assertEquals
import org.junit.Assert.assertNotNull
import org.junit.Assert.assertTrue
import org.robolectric.RuntimeEnvironment
import org.robolectric.Shadows.shadowOf
import org.robolectric.shadows.ShadowActivity
import org.robolectric.shadows.ShadowToast
import org.waystation.demo.android.PhotoProvider
import org.waystation.demo.android.ReportActivity
import org.waystation.demo.android.SyncActivity

/*
 * What a person does on the screens, as steps the follow-up and chain tests share: report a
 * problem through the report screen (a GPS fix, a camera photo through the content URI, the
 * district typed), and sync through the sync screen.
 */

/** The text field whose hint is [hint]. */
fun Activity.field(hint: String): EditText =
    content.tree().filterIsInstance<EditText>().firstOrNull { it.shown() && it.hint?.toString() == hint }
        ?: throw AssertionError("no field \"$hint\" on the screen: ${screenText()}")

/** A GPS fix at 34.2230, 108.9530, 8 m, at the fixed time, from the platform's LocationManager. */
fun gpsFixAtThePlace() {
    val app = RuntimeEnvironment.getApplication()
    shadowOf(app).grantPermissions(Manifest.permission.ACCESS_FINE_LOCATION)
    val manager = app.getSystemService(LocationManager::class.java)
    shadowOf(manager).setProviderEnabled(LocationManager.GPS_PROVIDER, true)
    shadowOf(manager).setProviderEnabled(LocationManager.NETWORK_PROVIDER, false)
    shadowOf(manager).simulateLocation(placeFix())
}

fun placeFix() = Location(LocationManager.GPS_PROVIDER).apply {
    latitude = 34.2230
    longitude = 108.9530
    accuracy = 8f
    time = RobolectricApp.NOW.toEpochMilli()
}

/**
 * Taps [button] and returns the camera request the screen started: an ACTION_IMAGE_CAPTURE
 * intent whose output is a content:// URI of the app's photo provider.
 */
fun openCamera(screen: Activity, button: String): ShadowActivity.IntentForResult {
    screen.tap(button)
    val request = shadowOf(screen).nextStartedActivityForResult
    assertNotNull("no camera intent", request)
    assertEquals(MediaStore.ACTION_IMAGE_CAPTURE, request.intent.action)
    val uri = request.outputUri()
    assertEquals("content", uri.scheme)
    assertEquals(PhotoProvider.authority(screen), uri.authority)
    return request
}

/** Where the camera app is to write the photo. */
fun ShadowActivity.IntentForResult.outputUri(): Uri {
    @Suppress("DEPRECATION")
    return intent.getParcelableExtra<Uri>(MediaStore.EXTRA_OUTPUT) ?: throw AssertionError("the camera intent has no output URI")
}

/** What the camera app (the test) does: writes [bytes] to the URI it was handed. */
fun Activity.writeAsTheCamera(request: ShadowActivity.IntentForResult, bytes: ByteArray) {
    contentResolver.openOutputStream(request.outputUri())!!.use { it.write(bytes) }
}

/**
 * Takes a photo: the camera app (the test) writes a JPEG to the URI the screen handed it when
 * [button] was tapped; waits for [remove] (what the screen shows once it has the photo).
 */
fun takePhoto(screen: Activity, button: String = "Take a photo", remove: String = "Remove", jpeg: ByteArray = ScreenTest.JPEG) {
    val request = openCamera(screen, button)
    screen.writeAsTheCamera(request, jpeg)
    shadowOf(screen).receiveResult(request.intent, Activity.RESULT_OK, null)
    screen.waitForText(remove)
}

/** The files the camera was handed that are still in the app's cache ([PhotoProvider.directory]). */
fun cameraFiles(): List<String> =
    PhotoProvider.directory(RuntimeEnvironment.getApplication()).list().orEmpty().sorted()

/** A new report of category "other", started on the report screen, in English. */
fun ScreenTest.startReport(): ReportActivity {
    val screen = open(ReportActivity::class.java)
    screen.waitForText("What is the problem?")
    val spinner = screen.content.tree().filterIsInstance<Spinner>().single()
    spinner.setSelection(org.waystation.reportCategories().indexOfFirst { it.code == "other" })
    screen.tap("Start the report")
    screen.waitForText("Description")
    return screen
}

/**
 * Reports a problem of category "other" through the report screen, in English: [description],
 * a GPS fix, a photo, district 610103 (Beilin) typed, submit. Offline: nothing is sent.
 */
fun ScreenTest.reportThroughTheScreen(description: String) {
    val screen = startReport()
    screen.field("Description").setText(description)
    gpsFixAtThePlace()
    screen.tap("Record my location")
    shadowOf(RuntimeEnvironment.getApplication().getSystemService(LocationManager::class.java)).simulateLocation(placeFix())
    screen.waitFor("the location to be stored") { !screen.showsText("No location yet") }
    takePhoto(screen)
    // Without a station pack (the home screen installs it) no station names the district.
    screen.waitFor("the district to be asked for, or known") { screen.showsText("✗ District") || screen.texts().none { it.startsWith("✗ ") } }
    if (screen.showsText("✗ District")) {
        screen.field("District code (e.g. 610113, Yanta)").setText("610103")
        screen.tap("Record my location")
        screen.waitFor("the district to be accepted") { !screen.showsText("✗ District") }
    }
    screen.waitFor("Submit to be enabled") { screen.control("Submit").isEnabled }
    screen.tap("Submit")
    screen.waitFor("the report to be submitted") { screen.isFinishing }
}

/**
 * Syncs through the sync screen, in English: sets [url] and [token] first when given (Save),
 * then "Sync now", and waits for its outcome. Returns the toast ("Synced" or why not).
 */
fun ScreenTest.syncThroughTheScreen(url: String? = null, token: String? = null): String {
    val screen = open(SyncActivity::class.java)
    screen.waitFor("the status") { screen.texts().size > 2 }
    if (url != null) {
        val fields = screen.content.tree().filterIsInstance<EditText>()
        fields[0].setText(url)
        if (token != null) fields[1].setText(token)
        screen.tap("Save")
        screen.waitFor("Sync now to be enabled") { screen.control("Sync now").isEnabled }
    }
    val before = ShadowToast.shownToastCount()
    screen.tap("Sync now")
    screen.waitFor("the sync to end") { ShadowToast.shownToastCount() > before }
    val toast = ShadowToast.getTextOfLatestToast()
    assertTrue("a sync ends with a message", toast.isNotEmpty())
    return toast
}
