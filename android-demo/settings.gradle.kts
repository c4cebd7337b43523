// The Waystation Android demo. Open this folder in Android Studio, after
// scripts/build-rust.sh has built the native libraries (see README.md).
pluginManagement {
    repositories {
        google()
        mavenCentral()
        gradlePluginPortal()
    }
}

dependencyResolutionManagement {
    repositoriesMode.set(RepositoriesMode.FAIL_ON_PROJECT_REPOS)
    repositories {
        google()
        mavenCentral()
    }
}

rootProject.name = "waystation-android-demo"

// :waystation is the drop-in library (generated bindings + native libraries); :app is the demo.
include(":waystation", ":app")
