// Package readme keeps README.md in step with the code: every generated
// section between <!-- name:begin --> and <!-- name:end --> markers must
// equal what the code renders for it:
//
//	rules     backup.RulesMarkdown (the validation rule table)
//	config    config.Markdown (the environment variables)
//	retry     retry.ClassTableMarkdown (the error classes)
//	outcomes  shared/notify/OUTCOMES.md, its examples taken from the golden
//	          events in shared/notify/testdata
//	routes    shared/webhook/ROUTES.md
//	ram       shared/tooling/rampolicy/RAM.md
//
// The three documents are kept true by their own packages' tests; this one
// only copies them. Run `go test ./shared/tooling/readme -update` after changing a
// source.
package readme
