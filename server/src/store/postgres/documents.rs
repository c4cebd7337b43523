//! Documents and the feed on PostgreSQL.

use super::{Col, PgTx};
use crate::store::{
    DocAccess, DocRow, DocUpdate, Documents, FeedEntry, NewDoc, Reader, StoreError, position,
};

/// What `reader` may read, as SQL over `docs` (mirrors `policy::may_read`; rows are checked
/// with it again): parameters $1 user, $2 admin, $3 follow-up.
pub(super) const READABLE: &str = "(d.owner = $1 OR (d.kind IN ('report', 'case') AND \
     ($2 OR ($3 AND d.district IN (SELECT district FROM user_areas WHERE user_id = $1)))))";

fn access(r: &tokio_postgres::Row) -> Result<DocAccess, StoreError> {
    Ok(DocAccess {
        kind: r.col(0)?,
        owner: r.col(1)?,
        district: r.col(2)?,
    })
}

impl Documents for PgTx<'_> {
    fn doc(&self, doc_id: &str) -> Result<Option<DocRow>, StoreError> {
        // In a write transaction the row is locked until the commit: a second writer of the
        // same document (on any instance) waits, then reads what the first committed.
        let sql = if self.is_write() {
            "SELECT kind, owner, district, snapshot FROM docs WHERE doc_id = $1 FOR UPDATE"
        } else {
            "SELECT kind, owner, district, snapshot FROM docs WHERE doc_id = $1"
        };
        let Some(row) = self.query_opt(sql, &[&doc_id])? else {
            return Ok(None);
        };
        let changes = self
            .query(
                "SELECT change FROM doc_changes WHERE doc_id = $1 ORDER BY n",
                &[&doc_id],
            )?
            .iter()
            .map(|r| r.col::<Vec<u8>>(0))
            .collect::<Result<_, StoreError>>()?;
        Ok(Some(DocRow {
            snapshot: row.col(3)?,
            changes,
            access: access(&row)?,
        }))
    }

    fn doc_access(&self, doc_id: &str) -> Result<Option<DocAccess>, StoreError> {
        self.query_opt(
            "SELECT kind, owner, district FROM docs WHERE doc_id = $1",
            &[&doc_id],
        )?
        .map(|r| access(&r))
        .transpose()
    }

    fn doc_heads(&self, doc_id: &str) -> Result<Option<(DocAccess, Vec<u8>)>, StoreError> {
        self.query_opt(
            "SELECT kind, owner, district, heads FROM docs WHERE doc_id = $1",
            &[&doc_id],
        )?
        .map(|r| Ok::<_, StoreError>((access(&r)?, r.col(3)?)))
        .transpose()
    }

    fn insert_doc(&self, d: &NewDoc<'_>) -> Result<(), StoreError> {
        self.execute(
            "INSERT INTO docs (doc_id, kind, owner, district, report_category, snapshot, heads, \
             change_count, seq, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, 0, NULL, $8)",
            &[
                &d.doc_id,
                &d.kind,
                &d.owner,
                &d.district,
                &d.category,
                &d.snapshot,
                &d.heads,
                &d.now,
            ],
        )?;
        self.place_at_commit(d.doc_id);
        Ok(())
    }

    fn append_changes(&self, u: &DocUpdate<'_>) -> Result<u64, StoreError> {
        let next_n: i64 = self
            .query_one(
                "SELECT COALESCE(MAX(n), 0) + 1 FROM doc_changes WHERE doc_id = $1",
                &[&u.doc_id],
            )?
            .col(0)?;
        for (i, c) in u.changes.iter().enumerate() {
            let n = next_n + i as i64;
            self.execute(
                "INSERT INTO doc_changes (doc_id, n, change) VALUES ($1, $2, $3)",
                &[&u.doc_id, &n, c],
            )?;
        }
        let added = u.changes.len() as i64;
        let count: i64 = self
            .query_one(
                "UPDATE docs SET heads = $2, change_count = change_count + $3, updated_at = $4, \
                 owner = $5, district = $6, report_category = $7 \
                 WHERE doc_id = $1 RETURNING change_count",
                &[
                    &u.doc_id,
                    &u.heads,
                    &added,
                    &u.now,
                    &u.owner,
                    &u.district,
                    &u.category,
                ],
            )?
            .col(0)?;
        self.place_at_commit(u.doc_id);
        Ok(position(count))
    }

    fn compact_doc(&self, doc_id: &str, snapshot: &[u8]) -> Result<(), StoreError> {
        self.execute(
            "UPDATE docs SET snapshot = $2, change_count = 0 WHERE doc_id = $1",
            &[&doc_id, &snapshot],
        )?;
        self.execute("DELETE FROM doc_changes WHERE doc_id = $1", &[&doc_id])?;
        Ok(())
    }

    fn set_report_photos(&self, report_id: &str, photos: &[String]) -> Result<(), StoreError> {
        self.execute(
            "DELETE FROM report_photos WHERE report_id = $1",
            &[&report_id],
        )?;
        for sha in photos {
            self.execute(
                "INSERT INTO report_photos (report_id, sha256) VALUES ($1, $2) \
                 ON CONFLICT DO NOTHING",
                &[&report_id, sha],
            )?;
        }
        Ok(())
    }

    fn feed_position(&self) -> Result<u64, StoreError> {
        let last: i64 = self
            .query_one("SELECT last FROM feed_position WHERE id = 1", &[])?
            .col(0)?;
        Ok(position(last))
    }

    fn generation(&self) -> Result<String, StoreError> {
        self.query_one("SELECT generation FROM meta WHERE id = 1", &[])?
            .col(0)
    }

    fn mark_restored(&self) -> Result<String, StoreError> {
        let mut bytes = [0u8; 8];
        getrandom::fill(&mut bytes)
            .map_err(|e| StoreError::Failed(format!("no random numbers for a generation: {e}")))?;
        let generation: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        self.query_one(
            "UPDATE meta SET generation = $1 WHERE id = 1 RETURNING generation",
            &[&generation],
        )?
        .col(0)
    }

    fn feed(
        &self,
        reader: &Reader<'_>,
        after: u64,
        limit: usize,
    ) -> Result<Vec<FeedEntry>, StoreError> {
        let sql = format!(
            "SELECT d.kind, d.owner, d.district, d.doc_id, d.seq, d.heads, \
             (SELECT r.base FROM replaced_docs r WHERE r.doc_id = d.doc_id) FROM docs d \
             WHERE d.seq > $4 AND {READABLE} ORDER BY d.seq LIMIT $5"
        );
        let (after, limit) = (after as i64, limit as i64);
        self.query(
            &sql,
            &[
                &reader.user,
                &reader.admin,
                &reader.follow_up,
                &after,
                &limit,
            ],
        )?
        .iter()
        .map(|r| {
            Ok(FeedEntry {
                access: access(r)?,
                doc_id: r.col(3)?,
                position: position(r.col(4)?),
                heads: r.col(5)?,
                replaced: r.col(6)?,
            })
        })
        .collect::<Result<_, StoreError>>()
    }

    fn is_purged(&self, doc_id: &str) -> Result<bool, StoreError> {
        self.query_one(
            "SELECT EXISTS (SELECT 1 FROM purged_docs WHERE doc_id = $1)",
            &[&doc_id],
        )?
        .col(0)
    }

    fn replaced_base(&self, doc_id: &str) -> Result<Option<Vec<u8>>, StoreError> {
        self.query_opt(
            "SELECT base FROM replaced_docs WHERE doc_id = $1",
            &[&doc_id],
        )?
        .map(|r| r.col(0))
        .transpose()
    }
}
