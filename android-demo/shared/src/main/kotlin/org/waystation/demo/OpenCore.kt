package org.waystation.demo

import okhttp3.OkHttpClient
import org.waystation.OkHttpTransport
import org.waystation.Options
import org.waystation.Waystation
import org.waystation.demoPublisherKey

/**
 * Opens the demo's core on [dataDir]. Its HTTP (sync, pack fetch, photo fetch) goes through
 * OkHttp on [http], the app's one client ([OkHttpTransport], from bindings/kotlin): the phone's
 * proxy, its trust store (with the user's and an organisation's CAs, as the network security
 * config allows) and OkHttp's connection pool apply, and the phone library carries no HTTP or
 * TLS stack of its own (android-demo/scripts/build-rust.sh builds it without one). The app
 * ([org.waystation.demo.android.AppGraph]) and the JVM tests open the core the same way.
 *
 * The demo trusts the demo publisher key, whose secret is public: a real app ships the city's
 * key instead.
 */
fun openCore(dataDir: String, http: OkHttpClient): Waystation =
    Waystation(dataDir, Options(trustedKeys = listOf(demoPublisherKey())), OkHttpTransport(http))
