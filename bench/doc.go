// Package bench runs shopkit's hot paths beside the libraries and
// hand-written scripts a Go shop would otherwise use, in one run on one
// Redis, so their ratios can be compared. It is a separate module so that
// the peers never become dependencies of shopkit itself.
//
// Point it at a real server for meaningful figures:
//
//	REDIS_ADDR=127.0.0.1:6379 go test -bench . -count 5 | tee new.txt
//
// Without REDIS_ADDR the Redis benchmarks run on an embedded miniredis,
// which checks they work but measures nothing useful.
package bench
