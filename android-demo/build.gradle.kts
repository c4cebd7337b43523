// AGP 9 compiles Kotlin itself ("built-in Kotlin") with the Kotlin Gradle plugin it depends on;
// putting a newer one on the build classpath makes it use that version, the same as the JVM
// builds here (gradle/libs.versions.toml: kotlin).
buildscript {
    repositories {
        mavenCentral()
    }
    dependencies {
        // Keep in step with `kotlin` in gradle/libs.versions.toml.
        classpath("org.jetbrains.kotlin:kotlin-gradle-plugin:2.4.21")
    }
}

plugins {
    alias(libs.plugins.android.application) apply false
    alias(libs.plugins.android.library) apply false
}
