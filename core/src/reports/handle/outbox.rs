//! The outbox call a shell may make itself ([`crate::reports::outbox`] holds the table and
//! the functions sync calls).

use crate::error::{Error, Result};
use crate::reports::outbox::write;
use crate::reports::{OutboxState, ReportId, ReportStatus, Reports};

impl Reports<'_> {
    /// Records what the server said about a submitted report. `Pending` puts it back in the
    /// queue, e.g. to resend after a fix. Sync records it itself; this is for a shell that
    /// delivers reports another way, and for tests.
    pub fn record_delivery(&self, id: &str, state: &OutboxState) -> Result<()> {
        let id = ReportId::parse(id)?;
        let report = self.get(id.as_str())?;
        if report.status == ReportStatus::Draft {
            return Err(Error::invalid(format!(
                "report '{id}' is a draft; only submitted reports are delivered"
            )));
        }
        write(&self.store().write(), &id, state)
    }
}
