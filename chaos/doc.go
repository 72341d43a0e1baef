// Package chaos runs shopkit's Redis stores under the faults a production
// deployment meets — server stalls past the client's timeouts, SIGKILL and
// restart with AOF, connection resets and latency, Sentinel failover, slot
// migration — with go-redis' default client options, and checks after every
// run that nothing was oversold, lost or left stuck.
//
// It is a module of its own so that its tools (an in-process toxiproxy,
// porcupine) never reach shopkit's users. Its tests start their own
// redis-server processes (standalone with AOF, a master with a replica
// and three Sentinels) and take a Cluster from REDIS_CLUSTER_ADDRS:
//
//	go test ./...                  # short mode, a few seconds a scenario
//	go test ./... -soak 10m        # each scenario for ten minutes
//
// RELIABILITY.md at the repository root lists the faults, the workloads,
// the invariants and the figures of the last run.
package chaos
