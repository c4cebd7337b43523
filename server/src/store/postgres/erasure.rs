//! Erasure and purge on PostgreSQL (decision 0009).

use super::{Col, PgTx};
use crate::store::{Erasure, ReplacedDoc, StoreError};

impl Erasure for PgTx<'_> {
    fn reports_and_cases(&self) -> Result<Vec<(String, String, String)>, StoreError> {
        self.query(
            "SELECT doc_id, kind, owner FROM docs WHERE kind IN ('report', 'case') \
                 ORDER BY seq",
            &[],
        )?
        .iter()
        .map(|r| Ok((r.col(0)?, r.col(1)?, r.col(2)?)))
        .collect::<Result<_, StoreError>>()
    }

    fn report_ids(&self) -> Result<Vec<String>, StoreError> {
        self.query(
            "SELECT doc_id FROM docs WHERE kind = 'report' ORDER BY seq",
            &[],
        )?
        .iter()
        .map(|r| r.col(0))
        .collect::<Result<_, StoreError>>()
    }

    fn delete_doc(&self, doc_id: &str) -> Result<bool, StoreError> {
        self.execute("DELETE FROM doc_changes WHERE doc_id = $1", &[&doc_id])?;
        self.execute("DELETE FROM report_photos WHERE report_id = $1", &[&doc_id])?;
        Ok(self.execute("DELETE FROM docs WHERE doc_id = $1", &[&doc_id])? > 0)
    }

    fn replace_doc(&self, d: &ReplacedDoc<'_>) -> Result<(), StoreError> {
        self.execute("DELETE FROM doc_changes WHERE doc_id = $1", &[&d.doc_id])?;
        self.execute(
            "UPDATE docs SET snapshot = $2, heads = $3, change_count = 0, updated_at = $4, \
             owner = $5 WHERE doc_id = $1",
            &[&d.doc_id, &d.snapshot, &d.heads, &d.now, &d.owner],
        )?;
        self.execute(
            "INSERT INTO replaced_docs (doc_id, base, replaced_at) VALUES ($1, $2, $3) \
             ON CONFLICT (doc_id) DO UPDATE SET base = excluded.base, \
             replaced_at = excluded.replaced_at",
            &[&d.doc_id, &d.base, &d.now],
        )?;
        self.place_at_commit(d.doc_id);
        Ok(())
    }

    fn delete_tokens(&self, user: &str) -> Result<u64, StoreError> {
        self.execute("DELETE FROM tokens WHERE user_id = $1", &[&user])
    }

    fn hand_over_uploads(&self, user: &str, erased: &str) -> Result<(), StoreError> {
        self.execute(
            "UPDATE photos SET uploader = $2 WHERE uploader = $1",
            &[&user, &erased],
        )?;
        // Uploads the placeholder already holds stay as they are (SQLite's UPDATE OR IGNORE).
        self.execute(
            "UPDATE photo_uploaders AS pu SET user_id = $2 WHERE pu.user_id = $1 \
             AND NOT EXISTS (SELECT 1 FROM photo_uploaders e \
             WHERE e.sha256 = pu.sha256 AND e.user_id = $2)",
            &[&user, &erased],
        )?;
        self.execute("DELETE FROM photo_uploaders WHERE user_id = $1", &[&user])?;
        Ok(())
    }

    fn delete_user(&self, user: &str) -> Result<(), StoreError> {
        self.execute("DELETE FROM user_areas WHERE user_id = $1", &[&user])?;
        self.execute("DELETE FROM users WHERE user_id = $1", &[&user])?;
        Ok(())
    }

    fn report_photo_authors(&self, report_id: &str) -> Result<Vec<(String, String)>, StoreError> {
        self.query(
            "SELECT d.owner, rp.sha256 FROM report_photos rp \
                 JOIN docs d ON d.doc_id = rp.report_id WHERE rp.report_id = $1",
            &[&report_id],
        )?
        .iter()
        .map(|r| Ok((r.col(0)?, r.col(1)?)))
        .collect::<Result<_, StoreError>>()
    }

    fn mark_purged(&self, doc_id: &str, now: &str) -> Result<(), StoreError> {
        self.execute(
            "INSERT INTO purged_docs (doc_id, purged_at) VALUES ($1, $2) ON CONFLICT DO NOTHING",
            &[&doc_id, &now],
        )?;
        Ok(())
    }

    fn forget_upload_unless_linked(&self, user: &str, sha: &str) -> Result<(), StoreError> {
        self.execute(
            "DELETE FROM photo_uploaders AS pu WHERE pu.user_id = $1 AND pu.sha256 = $2 \
             AND NOT EXISTS (SELECT 1 FROM report_photos rp JOIN docs d \
             ON d.doc_id = rp.report_id WHERE rp.sha256 = pu.sha256 AND d.owner = pu.user_id)",
            &[&user, &sha],
        )?;
        Ok(())
    }
}
