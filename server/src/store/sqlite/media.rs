//! Photos, quotas, packs and lesson images on SQLite.

use rusqlite::{OptionalExtension, params};

use super::SqliteTx;
use super::documents::READABLE;
use crate::quota::Swept;
use crate::store::{Media, NewPack, NewPhoto, PackRow, Reader, StoreError, position};

/// A report's photo counts as linked when the report's author uploaded those bytes; a case's
/// (an inspection photo) when the event's writer did, which the server checked before it
/// linked it (`sync::case_photos`).
const LINKED: &str = "(d.kind = 'case' OR EXISTS (SELECT 1 FROM photo_uploaders pu \
     WHERE pu.sha256 = rp.sha256 AND pu.user_id = d.owner))";

impl Media for SqliteTx<'_> {
    fn is_uploader(&self, user: &str, sha: &str) -> Result<bool, StoreError> {
        Ok(self
            .conn()
            .prepare_cached(
                "SELECT EXISTS (SELECT 1 FROM photo_uploaders WHERE sha256 = ?1 AND user_id = ?2)",
            )?
            .query_row([sha, user], |r| r.get(0))?)
    }

    fn insert_photo(&self, p: &NewPhoto<'_>) -> Result<bool, StoreError> {
        let conn = self.conn();
        conn.execute(
            "INSERT OR IGNORE INTO photos (sha256, bytes, mime, size, uploader, created_at) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![
                p.sha,
                p.bytes,
                p.mime,
                p.bytes.len() as i64,
                p.uploader,
                p.now
            ],
        )?;
        let n = conn.execute(
            "INSERT OR IGNORE INTO photo_uploaders (sha256, user_id, uploaded_at) \
             VALUES (?1, ?2, ?3)",
            params![p.sha, p.uploader, p.now],
        )?;
        Ok(n == 1)
    }

    fn missing_photos(&self, report_ids: &[&str], author: &str) -> Result<Vec<String>, StoreError> {
        // The ids go in as one JSON array, read by `json_each`: one statement whatever their
        // number (SQLite bounds the count of parameters, not the length of one). CROSS JOIN
        // keeps SQLite's join order: from the request's ids through the `report_photos
        // (report_id)` index, not through every document the author owns.
        let ids = serde_json::to_string(report_ids)
            .map_err(|e| StoreError::Failed(format!("report ids as JSON: {e}")))?;
        Ok(self
            .conn()
            .prepare_cached(
                "SELECT DISTINCT rp.sha256 FROM json_each(?1) AS j \
                 CROSS JOIN report_photos rp ON rp.report_id = j.value \
                 CROSS JOIN docs d ON d.doc_id = rp.report_id \
                 WHERE d.owner = ?2 AND NOT EXISTS (SELECT 1 FROM photo_uploaders pu \
                 WHERE pu.sha256 = rp.sha256 AND pu.user_id = ?2) ORDER BY rp.sha256",
            )?
            .query_map(params![ids, author], |r| r.get(0))?
            .collect::<rusqlite::Result<Vec<_>>>()?)
    }

    fn photo_meta(&self, sha: &str) -> Result<Option<(String, u64)>, StoreError> {
        Ok(self
            .conn()
            .prepare_cached("SELECT mime, size FROM photos WHERE sha256 = ?1")?
            .query_row([sha], |r| Ok((r.get(0)?, position(r.get(1)?))))
            .optional()?)
    }

    fn photo_readable_through_reports(
        &self,
        reader: &Reader<'_>,
        sha: &str,
    ) -> Result<bool, StoreError> {
        let sql = format!(
            "SELECT EXISTS (SELECT 1 FROM report_photos rp JOIN docs d ON d.doc_id = rp.report_id \
             WHERE rp.sha256 = ?4 AND {READABLE} AND {LINKED})"
        );
        Ok(self.conn().prepare_cached(&sql)?.query_row(
            params![reader.user, reader.admin, reader.follow_up, sha],
            |r| r.get(0),
        )?)
    }

    fn photo_bytes(&self, sha: &str) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self
            .conn()
            .prepare_cached("SELECT bytes FROM photos WHERE sha256 = ?1")?
            .query_row([sha], |r| r.get(0))
            .optional()?)
    }

    fn owned_documents(&self, user: &str) -> Result<u64, StoreError> {
        Ok(position(
            self.conn()
                .prepare_cached("SELECT count(*) FROM docs WHERE owner = ?1 AND kind != 'case'")?
                .query_row([user], |r| r.get(0))?,
        ))
    }

    fn stored_bytes(&self, user: &str) -> Result<u64, StoreError> {
        Ok(position(
            self.conn()
                .prepare_cached(
                    "SELECT \
                       (SELECT COALESCE(SUM(length(d.snapshot)), 0) FROM docs d \
                        WHERE d.owner = ?1 AND d.kind != 'case') \
                     + (SELECT COALESCE(SUM(length(c.change)), 0) FROM doc_changes c \
                        JOIN docs d ON d.doc_id = c.doc_id WHERE d.owner = ?1 AND d.kind != 'case') \
                     + (SELECT COALESCE(SUM(p.size), 0) FROM photo_uploaders pu \
                        JOIN photos p ON p.sha256 = pu.sha256 WHERE pu.user_id = ?1)",
                )?
                .query_row([user], |r| r.get(0))?,
        ))
    }

    fn unlinked_photos(&self, user: &str) -> Result<u64, StoreError> {
        Ok(position(
            self.conn()
                .prepare_cached(
                    "SELECT count(*) FROM photo_uploaders pu WHERE pu.user_id = ?1 AND NOT EXISTS \
                     (SELECT 1 FROM report_photos rp JOIN docs d ON d.doc_id = rp.report_id \
                      WHERE rp.sha256 = pu.sha256 AND (d.owner = pu.user_id OR d.kind = 'case'))",
                )?
                .query_row([user], |r| r.get(0))?,
        ))
    }

    fn sweep_unlinked_photos(&self, cutoff: &str) -> Result<Swept, StoreError> {
        let conn = self.conn();
        let uploads = conn.execute(
            "DELETE FROM photo_uploaders AS pu WHERE pu.uploaded_at < ?1 AND NOT EXISTS \
             (SELECT 1 FROM report_photos rp JOIN docs d ON d.doc_id = rp.report_id \
              WHERE rp.sha256 = pu.sha256 AND (d.owner = pu.user_id OR d.kind = 'case'))",
            params![cutoff],
        )? as u64;
        let photos = conn.execute(
            "DELETE FROM photos AS p WHERE \
             NOT EXISTS (SELECT 1 FROM photo_uploaders pu WHERE pu.sha256 = p.sha256) \
             AND NOT EXISTS (SELECT 1 FROM report_photos rp WHERE rp.sha256 = p.sha256)",
            [],
        )? as u64;
        Ok(Swept { uploads, photos })
    }

    fn pack(&self, kind: &str) -> Result<Option<PackRow>, StoreError> {
        Ok(self
            .conn()
            .prepare_cached("SELECT etag, pack_id, version FROM packs WHERE kind = ?1")?
            .query_row([kind], |r| {
                Ok(PackRow {
                    etag: r.get(0)?,
                    pack_id: r.get(1)?,
                    version: position(r.get(2)?),
                })
            })
            .optional()?)
    }

    fn pack_bytes(&self, kind: &str) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self
            .conn()
            .prepare_cached("SELECT bytes FROM packs WHERE kind = ?1")?
            .query_row([kind], |r| r.get(0))
            .optional()?)
    }

    fn put_pack(&self, p: &NewPack<'_>) -> Result<(), StoreError> {
        self.conn().execute(
            "INSERT INTO packs (kind, bytes, etag, pack_id, version, published_at) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (kind) DO UPDATE SET \
             bytes = excluded.bytes, etag = excluded.etag, pack_id = excluded.pack_id, \
             version = excluded.version, published_at = excluded.published_at",
            params![
                p.kind,
                p.bytes,
                p.etag,
                p.pack_id,
                p.version as i64,
                p.published_at
            ],
        )?;
        Ok(())
    }

    fn put_training_image(
        &self,
        sha: &str,
        mime: &str,
        bytes: &[u8],
        now: &str,
    ) -> Result<bool, StoreError> {
        let n = self.conn().execute(
            "INSERT OR IGNORE INTO training_images (sha256, bytes, mime, size, created_at) \
             VALUES (?1, ?2, ?3, ?4, ?5)",
            params![sha, bytes, mime, bytes.len() as i64, now],
        )?;
        Ok(n == 1)
    }

    fn training_image_type(&self, sha: &str) -> Result<Option<String>, StoreError> {
        Ok(self
            .conn()
            .prepare_cached("SELECT mime FROM training_images WHERE sha256 = ?1")?
            .query_row([sha], |r| r.get(0))
            .optional()?)
    }

    fn training_image(&self, sha: &str) -> Result<Option<(Vec<u8>, String)>, StoreError> {
        Ok(self
            .conn()
            .prepare_cached("SELECT bytes, mime FROM training_images WHERE sha256 = ?1")?
            .query_row([sha], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?)
    }
}
