// Package report builds what GET /v1/report answers (issue 20): per
// instance its last Finished backup, from RDS (DescribeBackups, newest
// 72-hour window first, at most 8 days back), and the asks that were
// refused, failed or deferred, from the ask ledger's problem rows, which
// settling notes (shared/settle) for every such outcome that names an
// instance. An instance that could not be read carries the error; the
// others are read.
//
// The cut: this package reads and assembles; the RDS client and the
// ledger are the invocation's, passed by shared/app's webhook
// ReportReader.
package report
