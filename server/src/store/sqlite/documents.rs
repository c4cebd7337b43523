//! Documents and the feed on SQLite.

use rusqlite::{OptionalExtension, params};

use super::SqliteTx;
use crate::store::{
    DocAccess, DocRow, DocUpdate, Documents, FeedEntry, NewDoc, Reader, StoreError, position,
};

/// What `reader` may read, as SQL over `docs` (mirrors `policy::may_read`; rows are checked
/// with it again): the account's own documents, and for follow-up roles the reports and cases
/// of their districts (all of them for admins). Parameters: ?1 user, ?2 admin, ?3 follow-up.
pub(super) const READABLE: &str = "(d.owner = ?1 OR (d.kind IN ('report', 'case') AND \
     (?2 OR (?3 AND d.district IN (SELECT district FROM user_areas WHERE user_id = ?1)))))";

impl SqliteTx<'_> {
    /// Takes the next feed position. SQLite has one writer, so positions are taken in commit
    /// order (decision 0011).
    pub(super) fn next_position(&self) -> Result<i64, StoreError> {
        Ok(self.conn().query_row(
            "UPDATE meta SET next_seq = next_seq + 1 WHERE id = 1 RETURNING next_seq - 1",
            [],
            |r| r.get(0),
        )?)
    }
}

impl Documents for SqliteTx<'_> {
    fn doc(&self, doc_id: &str) -> Result<Option<DocRow>, StoreError> {
        let conn = self.conn();
        let row: Option<(Vec<u8>, String, String, Option<String>)> = conn
            .prepare_cached("SELECT snapshot, kind, owner, district FROM docs WHERE doc_id = ?1")?
            .query_row([doc_id], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
            })
            .optional()?;
        let Some((snapshot, kind, owner, district)) = row else {
            return Ok(None);
        };
        let changes = conn
            .prepare_cached("SELECT change FROM doc_changes WHERE doc_id = ?1 ORDER BY n")?
            .query_map([doc_id], |r| r.get::<_, Vec<u8>>(0))?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(Some(DocRow {
            snapshot,
            changes,
            access: DocAccess {
                kind,
                owner,
                district,
            },
        }))
    }

    fn doc_access(&self, doc_id: &str) -> Result<Option<DocAccess>, StoreError> {
        Ok(self
            .conn()
            .prepare_cached("SELECT kind, owner, district FROM docs WHERE doc_id = ?1")?
            .query_row([doc_id], |r| {
                Ok(DocAccess {
                    kind: r.get(0)?,
                    owner: r.get(1)?,
                    district: r.get(2)?,
                })
            })
            .optional()?)
    }

    fn doc_heads(&self, doc_id: &str) -> Result<Option<(DocAccess, Vec<u8>)>, StoreError> {
        Ok(self
            .conn()
            .prepare_cached("SELECT kind, owner, district, heads FROM docs WHERE doc_id = ?1")?
            .query_row([doc_id], |r| {
                Ok((
                    DocAccess {
                        kind: r.get(0)?,
                        owner: r.get(1)?,
                        district: r.get(2)?,
                    },
                    r.get(3)?,
                ))
            })
            .optional()?)
    }

    fn insert_doc(&self, d: &NewDoc<'_>) -> Result<(), StoreError> {
        let seq = self.next_position()?;
        self.conn().execute(
            "INSERT INTO docs (doc_id, kind, owner, district, report_category, snapshot, heads, \
             change_count, seq, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 0, ?8, ?9)",
            params![
                d.doc_id, d.kind, d.owner, d.district, d.category, d.snapshot, d.heads, seq, d.now,
            ],
        )?;
        Ok(())
    }

    fn append_changes(&self, u: &DocUpdate<'_>) -> Result<u64, StoreError> {
        let seq = self.next_position()?;
        let conn = self.conn();
        let next_n: i64 = conn.query_row(
            "SELECT COALESCE(MAX(n), 0) + 1 FROM doc_changes WHERE doc_id = ?1",
            [u.doc_id],
            |r| r.get(0),
        )?;
        {
            let mut insert = conn.prepare_cached(
                "INSERT INTO doc_changes (doc_id, n, change) VALUES (?1, ?2, ?3)",
            )?;
            for (i, c) in u.changes.iter().enumerate() {
                insert.execute(params![u.doc_id, next_n + i as i64, c])?;
            }
        }
        let count: i64 = conn.query_row(
            "UPDATE docs SET heads = ?2, change_count = change_count + ?3, seq = ?4, \
             updated_at = ?5, owner = ?6, district = ?7, report_category = ?8 \
             WHERE doc_id = ?1 RETURNING change_count",
            params![
                u.doc_id,
                u.heads,
                u.changes.len() as i64,
                seq,
                u.now,
                u.owner,
                u.district,
                u.category,
            ],
            |r| r.get(0),
        )?;
        Ok(position(count))
    }

    fn compact_doc(&self, doc_id: &str, snapshot: &[u8]) -> Result<(), StoreError> {
        let conn = self.conn();
        conn.execute(
            "UPDATE docs SET snapshot = ?2, change_count = 0 WHERE doc_id = ?1",
            params![doc_id, snapshot],
        )?;
        conn.execute("DELETE FROM doc_changes WHERE doc_id = ?1", [doc_id])?;
        Ok(())
    }

    fn set_report_photos(&self, report_id: &str, photos: &[String]) -> Result<(), StoreError> {
        let conn = self.conn();
        conn.execute(
            "DELETE FROM report_photos WHERE report_id = ?1",
            [report_id],
        )?;
        let mut insert = conn.prepare_cached(
            "INSERT OR IGNORE INTO report_photos (report_id, sha256) VALUES (?1, ?2)",
        )?;
        for sha in photos {
            insert.execute(params![report_id, sha])?;
        }
        Ok(())
    }

    fn feed_position(&self) -> Result<u64, StoreError> {
        let next: i64 =
            self.conn()
                .query_row("SELECT next_seq FROM meta WHERE id = 1", [], |r| r.get(0))?;
        Ok(position(next - 1))
    }

    fn generation(&self) -> Result<String, StoreError> {
        Ok(self
            .conn()
            .query_row("SELECT generation FROM meta WHERE id = 1", [], |r| r.get(0))?)
    }

    fn mark_restored(&self) -> Result<String, StoreError> {
        Ok(self.conn().query_row(
            "UPDATE meta SET generation = lower(hex(randomblob(8))) WHERE id = 1 \
             RETURNING generation",
            [],
            |r| r.get(0),
        )?)
    }

    fn feed(
        &self,
        reader: &Reader<'_>,
        after: u64,
        limit: usize,
    ) -> Result<Vec<FeedEntry>, StoreError> {
        // An account that reads only its own documents (a rider) reads them through the
        // (owner, seq) index; the general rule's OR would walk the feed from the cursor,
        // through every other account's documents written since. (?2 and ?3 are bound and
        // unused there: SQLite numbers parameters up to the highest one named.)
        let readable = if !reader.admin && !reader.follow_up {
            "d.owner = ?1"
        } else {
            READABLE
        };
        let sql = format!(
            "SELECT d.doc_id, d.kind, d.owner, d.district, d.seq, d.heads, \
             (SELECT r.base FROM replaced_docs r WHERE r.doc_id = d.doc_id) FROM docs d \
             WHERE d.seq > ?4 AND {readable} ORDER BY d.seq LIMIT ?5"
        );
        let mut stmt = self.conn().prepare_cached(&sql)?;
        let rows = stmt.query_map(
            params![
                reader.user,
                reader.admin,
                reader.follow_up,
                after as i64,
                limit as i64
            ],
            |r| {
                Ok(FeedEntry {
                    doc_id: r.get(0)?,
                    access: DocAccess {
                        kind: r.get(1)?,
                        owner: r.get(2)?,
                        district: r.get(3)?,
                    },
                    position: position(r.get(4)?),
                    heads: r.get(5)?,
                    replaced: r.get(6)?,
                })
            },
        )?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    }

    fn is_purged(&self, doc_id: &str) -> Result<bool, StoreError> {
        Ok(self
            .conn()
            .prepare_cached("SELECT EXISTS (SELECT 1 FROM purged_docs WHERE doc_id = ?1)")?
            .query_row([doc_id], |r| r.get(0))?)
    }

    fn replaced_base(&self, doc_id: &str) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self
            .conn()
            .prepare_cached("SELECT base FROM replaced_docs WHERE doc_id = ?1")?
            .query_row([doc_id], |r| r.get(0))
            .optional()?)
    }
}
