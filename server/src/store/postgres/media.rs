//! Photos, quotas, packs and lesson images on PostgreSQL.

use super::documents::READABLE;
use super::{Col, PgTx};
use crate::quota::Swept;
use crate::store::{Media, NewPack, NewPhoto, PackRow, Reader, StoreError, position};

/// A report's photo counts as linked when the report's author uploaded those bytes; a case's
/// (an inspection photo) when the event's writer did, which the server checked before it
/// linked it (`sync::case_photos`).
const LINKED: &str = "(d.kind = 'case' OR EXISTS (SELECT 1 FROM photo_uploaders pu \
     WHERE pu.sha256 = rp.sha256 AND pu.user_id = d.owner))";

impl Media for PgTx<'_> {
    fn is_uploader(&self, user: &str, sha: &str) -> Result<bool, StoreError> {
        self.query_one(
            "SELECT EXISTS (SELECT 1 FROM photo_uploaders WHERE sha256 = $1 AND user_id = $2)",
            &[&sha, &user],
        )?
        .col(0)
    }

    fn insert_photo(&self, p: &NewPhoto<'_>) -> Result<bool, StoreError> {
        let size = p.bytes.len() as i64;
        self.execute(
            "INSERT INTO photos (sha256, bytes, mime, size, uploader, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING",
            &[&p.sha, &p.bytes, &p.mime, &size, &p.uploader, &p.now],
        )?;
        let n = self.execute(
            "INSERT INTO photo_uploaders (sha256, user_id, uploaded_at) VALUES ($1, $2, $3) \
             ON CONFLICT DO NOTHING",
            &[&p.sha, &p.uploader, &p.now],
        )?;
        Ok(n == 1)
    }

    fn missing_photos(&self, report_ids: &[&str], author: &str) -> Result<Vec<String>, StoreError> {
        // One round trip for every report of the request: the ids go as one `text[]`.
        self.query(
            "SELECT DISTINCT rp.sha256 FROM report_photos rp \
             JOIN docs d ON d.doc_id = rp.report_id \
             WHERE rp.report_id = ANY($1::text[]) AND d.owner = $2 \
             AND NOT EXISTS (SELECT 1 FROM photo_uploaders pu \
             WHERE pu.sha256 = rp.sha256 AND pu.user_id = $2) ORDER BY rp.sha256",
            &[&report_ids, &author],
        )?
        .iter()
        .map(|r| r.col(0))
        .collect::<Result<_, StoreError>>()
    }

    fn photo_meta(&self, sha: &str) -> Result<Option<(String, u64)>, StoreError> {
        self.query_opt("SELECT mime, size FROM photos WHERE sha256 = $1", &[&sha])?
            .map(|r| Ok::<_, StoreError>((r.col(0)?, position(r.col(1)?))))
            .transpose()
    }

    fn photo_readable_through_reports(
        &self,
        reader: &Reader<'_>,
        sha: &str,
    ) -> Result<bool, StoreError> {
        let sql = format!(
            "SELECT EXISTS (SELECT 1 FROM report_photos rp JOIN docs d ON d.doc_id = rp.report_id \
             WHERE rp.sha256 = $4 AND {READABLE} AND {LINKED})"
        );
        self.query_one(
            &sql,
            &[&reader.user, &reader.admin, &reader.follow_up, &sha],
        )?
        .col(0)
    }

    fn photo_bytes(&self, sha: &str) -> Result<Option<Vec<u8>>, StoreError> {
        self.query_opt("SELECT bytes FROM photos WHERE sha256 = $1", &[&sha])?
            .map(|r| r.col(0))
            .transpose()
    }

    fn owned_documents(&self, user: &str) -> Result<u64, StoreError> {
        let n: i64 = self
            .query_one(
                "SELECT count(*) FROM docs WHERE owner = $1 AND kind <> 'case'",
                &[&user],
            )?
            .col(0)?;
        Ok(position(n))
    }

    fn stored_bytes(&self, user: &str) -> Result<u64, StoreError> {
        let n: i64 = self
            .query_one(
                "SELECT (\
                   (SELECT COALESCE(SUM(octet_length(d.snapshot)), 0) FROM docs d \
                    WHERE d.owner = $1 AND d.kind <> 'case') \
                 + (SELECT COALESCE(SUM(octet_length(c.change)), 0) FROM doc_changes c \
                    JOIN docs d ON d.doc_id = c.doc_id WHERE d.owner = $1 AND d.kind <> 'case') \
                 + (SELECT COALESCE(SUM(p.size), 0) FROM photo_uploaders pu \
                    JOIN photos p ON p.sha256 = pu.sha256 WHERE pu.user_id = $1))::BIGINT",
                &[&user],
            )?
            .col(0)?;
        Ok(position(n))
    }

    fn unlinked_photos(&self, user: &str) -> Result<u64, StoreError> {
        let n: i64 = self
            .query_one(
                "SELECT count(*) FROM photo_uploaders pu WHERE pu.user_id = $1 AND NOT EXISTS \
                 (SELECT 1 FROM report_photos rp JOIN docs d ON d.doc_id = rp.report_id \
                  WHERE rp.sha256 = pu.sha256 AND (d.owner = pu.user_id OR d.kind = 'case'))",
                &[&user],
            )?
            .col(0)?;
        Ok(position(n))
    }

    fn sweep_unlinked_photos(&self, cutoff: &str) -> Result<Swept, StoreError> {
        let uploads = self.execute(
            "DELETE FROM photo_uploaders AS pu WHERE pu.uploaded_at < $1 AND NOT EXISTS \
             (SELECT 1 FROM report_photos rp JOIN docs d ON d.doc_id = rp.report_id \
              WHERE rp.sha256 = pu.sha256 AND (d.owner = pu.user_id OR d.kind = 'case'))",
            &[&cutoff],
        )?;
        let photos = self.execute(
            "DELETE FROM photos AS p WHERE \
             NOT EXISTS (SELECT 1 FROM photo_uploaders pu WHERE pu.sha256 = p.sha256) \
             AND NOT EXISTS (SELECT 1 FROM report_photos rp WHERE rp.sha256 = p.sha256)",
            &[],
        )?;
        Ok(Swept { uploads, photos })
    }

    fn pack(&self, kind: &str) -> Result<Option<PackRow>, StoreError> {
        self.query_opt(
            "SELECT etag, pack_id, version FROM packs WHERE kind = $1",
            &[&kind],
        )?
        .map(|r| {
            Ok::<_, StoreError>(PackRow {
                etag: r.col(0)?,
                pack_id: r.col(1)?,
                version: position(r.col(2)?),
            })
        })
        .transpose()
    }

    fn pack_bytes(&self, kind: &str) -> Result<Option<Vec<u8>>, StoreError> {
        self.query_opt("SELECT bytes FROM packs WHERE kind = $1", &[&kind])?
            .map(|r| r.col(0))
            .transpose()
    }

    fn put_pack(&self, p: &NewPack<'_>) -> Result<(), StoreError> {
        let version = p.version as i64;
        self.execute(
            "INSERT INTO packs (kind, bytes, etag, pack_id, version, published_at) \
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (kind) DO UPDATE SET \
             bytes = excluded.bytes, etag = excluded.etag, pack_id = excluded.pack_id, \
             version = excluded.version, published_at = excluded.published_at",
            &[
                &p.kind,
                &p.bytes,
                &p.etag,
                &p.pack_id,
                &version,
                &p.published_at,
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
        let size = bytes.len() as i64;
        let n = self.execute(
            "INSERT INTO training_images (sha256, bytes, mime, size, created_at) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
            &[&sha, &bytes, &mime, &size, &now],
        )?;
        Ok(n == 1)
    }

    fn training_image_type(&self, sha: &str) -> Result<Option<String>, StoreError> {
        self.query_opt(
            "SELECT mime FROM training_images WHERE sha256 = $1",
            &[&sha],
        )?
        .map(|r| r.col(0))
        .transpose()
    }

    fn training_image(&self, sha: &str) -> Result<Option<(Vec<u8>, String)>, StoreError> {
        self.query_opt(
            "SELECT bytes, mime FROM training_images WHERE sha256 = $1",
            &[&sha],
        )?
        .map(|r| Ok::<_, StoreError>((r.col(0)?, r.col(1)?)))
        .transpose()
    }
}
