// The demo app. Its Kotlin comes from three directories:
//   src/main/kotlin          platform-only screens (compiled in CI against android-all);
//   src/androidx/kotlin      the files that need AndroidX (WorkManager), compiled only here;
//   ../shared/src/main/kotlin the view models, formatting and sync policy, unit-tested in CI
//                            on the JVM against the real native library (../pom.xml).
plugins {
    alias(libs.plugins.android.application)
}

android {
    namespace = "org.waystation.demo.android"
    compileSdk = libs.versions.compileSdk.get().toInt()

    defaultConfig {
        applicationId = "org.waystation.demo.android"
        minSdk = libs.versions.minSdk.get().toInt()
        targetSdk = libs.versions.compileSdk.get().toInt()
        versionCode = 1
        versionName = "0.1.0"
    }

    buildTypes {
        release {
            // A demo: no shrinking. An app that shrinks gets the library's keep rules.
            isMinifyEnabled = false
            signingConfig = signingConfigs.getByName("debug")
        }
    }

    compileOptions {
        sourceCompatibility = JavaVersion.VERSION_17
        targetCompatibility = JavaVersion.VERSION_17
    }

    sourceSets {
        getByName("main") {
            kotlin.srcDirs("src/main/kotlin", "src/androidx/kotlin", "../shared/src/main/kotlin")
            // packs/xian-sample.pack.json and packs/xian-training.pack.json, copied by
            // ../scripts/build-rust.sh from data/.
            assets.srcDir("src/generated/assets")
        }
    }
}

dependencies {
    implementation(project(":waystation"))
    implementation(libs.kotlinx.coroutines.android)
    implementation(libs.androidx.work.runtime)
}
