// Package readme keeps README.md in step with the code: the rule table, the
// configuration table and the other generated sections between
// <!-- name:begin --> and <!-- name:end --> markers must equal what the code
// renders. Run `go test ./shared/readme -update` after changing a source.
package readme
