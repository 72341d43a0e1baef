module github.com/shopkit/shopkit/bench

go 1.26.8

require (
	github.com/Rhymond/go-money v1.0.15
	github.com/alicebob/miniredis/v2 v2.40.0
	github.com/bsm/redislock v0.9.4
	github.com/go-redis/redis_rate/v10 v10.0.1
	github.com/go-redsync/redsync/v4 v4.18.1
	github.com/growthbook/growthbook-golang v0.7.0
	github.com/redis/go-redis/v9 v9.23.0
	github.com/shopkit/shopkit v0.0.0
	gonum.org/v1/gonum v0.17.0
)

require (
	github.com/cespare/xxhash/v2 v2.3.0 // indirect
	github.com/shopspring/decimal v1.6.0 // indirect
	github.com/tmaxmax/go-sse v0.10.0 // indirect
	github.com/yuin/gopher-lua v1.1.1 // indirect
	go.uber.org/atomic v1.12.0 // indirect
	golang.org/x/sync v0.24.0 // indirect
	golang.org/x/sys v0.48.0 // indirect
)

replace github.com/shopkit/shopkit => ../
