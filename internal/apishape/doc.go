// Package apishape has no code: its test reads every package of the
// module with go/doc and fails when a constructor, options type, Redis
// client parameter, observer or request breaks the module's one API shape.
package apishape
