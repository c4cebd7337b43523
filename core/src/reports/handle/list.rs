//! The report list on the [`Reports`] handle, read from the index ([`crate::reports::index`]).

use crate::Waystation;
use crate::error::Result;
use crate::reports::index::{self, rebuild};
use crate::reports::model::check_author;
use crate::reports::{ReportId, ReportStatus, ReportSummary, Reports};

impl Waystation {
    /// Rebuilds the report index once after an upgrade from a schema without it (see the
    /// module docs). A single-row check otherwise.
    pub(crate) fn ensure_report_index(&self) -> Result<()> {
        let pending: bool = self.store().read().query_row(
            "SELECT EXISTS (SELECT 1 FROM report_index_rebuild)",
            [],
            |r| r.get(0),
        )?;
        if pending {
            rebuild(&mut self.store().write())?;
        }
        Ok(())
    }
}

impl Reports<'_> {
    /// `author`'s reports as lightweight summaries, newest first, read from the index without
    /// loading any document: the call for list screens. `status` keeps only reports in that
    /// state; `None` lists all of them.
    pub fn summaries(
        &self,
        author: &str,
        status: Option<ReportStatus>,
    ) -> Result<Vec<ReportSummary>> {
        check_author(author)?;
        self.ws.ensure_report_index()?;
        index::by_author(&self.store().read(), author, status)
    }

    /// Ids of `author`'s reports (optionally only those in `status`), newest first.
    pub(super) fn indexed_ids(
        &self,
        author: &str,
        status: Option<ReportStatus>,
    ) -> Result<Vec<ReportId>> {
        Ok(self
            .summaries(author, status)?
            .into_iter()
            .map(|s| s.id)
            .collect())
    }
}
