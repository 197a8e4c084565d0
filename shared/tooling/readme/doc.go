// Package readme keeps README.md and docs/*.md in step with the code and
// with each other.
//
// Every generated section between <!-- name:begin --> and <!-- name:end -->
// markers must equal what the code renders for it, in the one file where it
// lives:
//
//	rules     docs/validation-and-retries.md  backup.RulesMarkdown (the validation rule table)
//	retry     docs/validation-and-retries.md  retry.ClassTableMarkdown (the error classes)
//	config    README.md                       config.Markdown (the environment variables)
//	outcomes  docs/outcomes.md                shared/notify/OUTCOMES.md, its examples taken
//	                                          from the golden events in shared/notify/testdata
//	routes    docs/webhooks.md                shared/webhook/ROUTES.md
//	ram       docs/ram-policy.md              shared/tooling/rampolicy/RAM.md
//
// The three documents are kept true by their own packages' tests; this one
// only copies them, rewriting a same-page link whose heading lives in
// another file (RAM.md's #deploy points at README.md#deploy). Run
// `go test ./shared/tooling/readme -update` after changing a source.
//
// The tests also hold the documents together: README.md has at most 400
// lines; every relative link of README.md and docs/*.md names a file of the
// repository and every #anchor a heading of its target (GitHub's slug:
// lowercase, spaces to '-', punctuation other than '-' and '_' dropped); and,
// outside the generated sections, nothing names a document beside the
// repository (DESIGN.md and its § sections, issue numbers, paths out of the
// tree).
package readme
