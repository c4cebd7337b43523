//! Erasure and purge on SQLite (decision 0009).

use rusqlite::params;

use super::SqliteTx;
use crate::store::{Erasure, ReplacedDoc, StoreError};

impl Erasure for SqliteTx<'_> {
    fn reports_and_cases(&self) -> Result<Vec<(String, String, String)>, StoreError> {
        Ok(self
            .conn()
            .prepare(
                "SELECT doc_id, kind, owner FROM docs WHERE kind IN ('report', 'case') \
                 ORDER BY seq",
            )?
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
            .collect::<rusqlite::Result<Vec<_>>>()?)
    }

    fn report_ids(&self) -> Result<Vec<String>, StoreError> {
        Ok(self
            .conn()
            .prepare("SELECT doc_id FROM docs WHERE kind = 'report' ORDER BY seq")?
            .query_map([], |r| r.get(0))?
            .collect::<rusqlite::Result<Vec<_>>>()?)
    }

    fn delete_doc(&self, doc_id: &str) -> Result<bool, StoreError> {
        let conn = self.conn();
        conn.execute("DELETE FROM doc_changes WHERE doc_id = ?1", [doc_id])?;
        conn.execute("DELETE FROM report_photos WHERE report_id = ?1", [doc_id])?;
        Ok(conn.execute("DELETE FROM docs WHERE doc_id = ?1", [doc_id])? > 0)
    }

    fn replace_doc(&self, d: &ReplacedDoc<'_>) -> Result<(), StoreError> {
        let seq = self.next_position()?;
        let conn = self.conn();
        conn.execute("DELETE FROM doc_changes WHERE doc_id = ?1", [d.doc_id])?;
        conn.execute(
            "UPDATE docs SET snapshot = ?2, heads = ?3, change_count = 0, seq = ?4, \
             updated_at = ?5, owner = ?6 WHERE doc_id = ?1",
            params![d.doc_id, d.snapshot, d.heads, seq, d.now, d.owner],
        )?;
        conn.execute(
            "INSERT INTO replaced_docs (doc_id, base, replaced_at) VALUES (?1, ?2, ?3) \
             ON CONFLICT (doc_id) DO UPDATE SET base = excluded.base, \
             replaced_at = excluded.replaced_at",
            params![d.doc_id, d.base, d.now],
        )?;
        Ok(())
    }

    fn delete_tokens(&self, user: &str) -> Result<u64, StoreError> {
        Ok(self
            .conn()
            .execute("DELETE FROM tokens WHERE user_id = ?1", [user])? as u64)
    }

    fn hand_over_uploads(&self, user: &str, erased: &str) -> Result<(), StoreError> {
        let conn = self.conn();
        conn.execute(
            "UPDATE photos SET uploader = ?2 WHERE uploader = ?1",
            params![user, erased],
        )?;
        conn.execute(
            "UPDATE OR IGNORE photo_uploaders SET user_id = ?2 WHERE user_id = ?1",
            params![user, erased],
        )?;
        conn.execute("DELETE FROM photo_uploaders WHERE user_id = ?1", [user])?;
        Ok(())
    }

    fn delete_user(&self, user: &str) -> Result<(), StoreError> {
        let conn = self.conn();
        conn.execute("DELETE FROM user_areas WHERE user_id = ?1", [user])?;
        conn.execute("DELETE FROM users WHERE user_id = ?1", [user])?;
        Ok(())
    }

    fn report_photo_authors(&self, report_id: &str) -> Result<Vec<(String, String)>, StoreError> {
        Ok(self
            .conn()
            .prepare(
                "SELECT d.owner, rp.sha256 FROM report_photos rp \
                 JOIN docs d ON d.doc_id = rp.report_id WHERE rp.report_id = ?1",
            )?
            .query_map([report_id], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<rusqlite::Result<Vec<_>>>()?)
    }

    fn mark_purged(&self, doc_id: &str, now: &str) -> Result<(), StoreError> {
        self.conn().execute(
            "INSERT OR IGNORE INTO purged_docs (doc_id, purged_at) VALUES (?1, ?2)",
            params![doc_id, now],
        )?;
        Ok(())
    }

    fn forget_upload_unless_linked(&self, user: &str, sha: &str) -> Result<(), StoreError> {
        self.conn().execute(
            "DELETE FROM photo_uploaders AS pu WHERE pu.user_id = ?1 AND pu.sha256 = ?2 \
             AND NOT EXISTS (SELECT 1 FROM report_photos rp JOIN docs d \
             ON d.doc_id = rp.report_id WHERE rp.sha256 = pu.sha256 AND d.owner = pu.user_id)",
            params![user, sha],
        )?;
        Ok(())
    }
}
