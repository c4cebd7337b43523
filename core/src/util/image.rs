//! Image signatures: what a file claims to be by its first bytes. Report photos (which are
//! then stripped of metadata) and training images (which are checked and stored as they are)
//! both start here.

/// The media type of a JPEG, PNG or WebP file, by its signature (first bytes); `None` for
/// anything else. It says what the file claims to be, not that it is complete.
pub fn image_type(bytes: &[u8]) -> Option<&'static str> {
    if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some("image/jpeg")
    } else if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some("image/png")
    } else if bytes.len() >= 12 && &bytes[..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
        Some("image/webp")
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::image_type;

    #[test]
    fn signatures_name_the_three_formats_and_nothing_else() {
        assert_eq!(image_type(&[0xFF, 0xD8, 0xFF, 0xE0]), Some("image/jpeg"));
        assert_eq!(image_type(b"\x89PNG\r\n\x1a\n...."), Some("image/png"));
        assert_eq!(image_type(b"RIFF\0\0\0\0WEBPVP8 "), Some("image/webp"));
        // RIFF without WEBP (a WAV file), a truncated WebP header, GIF, nothing.
        assert_eq!(image_type(b"RIFF\0\0\0\0WAVEfmt "), None);
        assert_eq!(image_type(b"RIFF\0\0\0\0WEB"), None);
        assert_eq!(image_type(b"GIF89a"), None);
        assert_eq!(image_type(b""), None);
    }
}
