// Command shop is a small HTTP shop server composed from shopkit's
// packages and the standard library: a catalogue with stock per warehouse
// (inventory), explained cart quotes with promotions and coupons
// (pricing), checkout that chooses warehouses (routing) and holds stock
// and coupons, payment that splits the money into a ledger (payout) and
// merges and rates parcels (logistics), a flash sale behind rate limits
// (seckill), an A/B test on every user (abtest), and funnel and KPI
// metrics (funnel).
//
// Orders and Idempotency-Key answers live in the stores too, so several
// instances can share one Redis; every change to an order is a resumable
// step (saga.go) that any instance finishes after a crash. Admin
// endpoints (admin.go) restock, edit the catalogue, settle the flash sale
// and list orders; openapi.json describes the whole API. A dashboard
// (dashboard.go) draws the numbers live, with uPlot vendored under static/
// — small, dependency-free and made for time series; see dashboard.go.
//
//	go run ./examples/shop                       # in memory, on 127.0.0.1:8080
//	go run ./examples/shop -redis localhost:6379 # every store on Redis
//	go run ./examples/shop -cluster 127.0.0.1:7001,127.0.0.1:7002,127.0.0.1:7003
//	go run ./examples/shop -smoke                # start, run a session against itself, stop
//
// The README walks through a checkout with curl.
package main

import (
	"context"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"github.com/shopkit/shopkit/examples/exampleredis"
	"github.com/shopkit/shopkit/seckill"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:8080", "address to serve the API on")
	redisAddr := flag.String("redis", "", "Redis address for every store (default: in memory)")
	clusterAddrs := flag.String("cluster", "", "comma-separated Redis Cluster seed addresses")
	prefix := flag.String("prefix", "shop", "key prefix of the shop's stores in Redis")
	hold := flag.Duration("hold", 15*time.Minute, "how long checkout holds stock and coupons before payment")
	smoke := flag.Bool("smoke", false, "serve on a free port, run the README's session against it (with -insecure-user-header), and stop")
	var c config
	flag.StringVar(&c.tokenKey, "token-key", os.Getenv("SHOP_TOKEN_KEY"), "hex key (32+ bytes) that signs tokens and derives order IDs; default $SHOP_TOKEN_KEY, else a random key per process")
	flag.BoolVar(&c.insecureHeader, "insecure-user-header", false, "believe X-User-ID as sent instead of a bearer token: local development and tests only")
	mint := flag.String("mint-token", "", "print a bearer token for this user (valid 24 h, signed with -token-key) and exit")
	flag.Float64Var(&c.ipRate, "ip-rate", 20, "requests per second allowed from one client address")
	flag.IntVar(&c.ipBurst, "ip-burst", 40, "requests one client address may send at once")
	flag.StringVar(&c.adminListen, "admin-listen", "", "address to serve net/http/pprof and /metrics on, apart from the API (keep it private); off when empty")
	flag.StringVar(&c.trustedProxies, "trusted-proxies", "", "comma-separated addresses or CIDR prefixes of proxies whose X-Forwarded-For names the client")
	flag.Parse()
	if *smoke {
		c.insecureHeader = true
	}
	if *mint != "" {
		if err := mintToken(c.tokenKey, *mint); err != nil {
			log.Fatal(err)
		}
		return
	}
	if err := run(*listen, *redisAddr, *clusterAddrs, *prefix, *hold, *smoke, c); err != nil {
		log.Fatal(err)
	}
}

// config is how the shop decides who a request is and how much it may ask.
type config struct {
	tokenKey       string
	insecureHeader bool
	ipRate         float64
	ipBurst        int
	trustedProxies string
	adminListen    string
}

// apply sets the shop's auth and limits from c.
func (c config) apply(s *shop) error {
	switch key, err := hex.DecodeString(c.tokenKey); {
	case err != nil || (c.tokenKey != "" && len(key) < 32):
		return errors.New("-token-key must be at least 32 bytes in hex")
	case c.tokenKey != "":
		s.auth.key = key
	case c.insecureHeader:
		s.auth.key = devKey // order IDs guessable, as the header is forgeable
	default:
		s.auth.key = newKey()
		log.Print("no -token-key: tokens are signed with a random key and die with the process; order IDs differ across restarts")
	}
	s.auth.insecureHeader = c.insecureHeader
	if c.insecureHeader {
		log.Print("-insecure-user-header: X-User-ID is believed as sent; do not expose this shop")
	}
	if c.ipRate <= 0 || c.ipBurst <= 0 {
		return errors.New("-ip-rate and -ip-burst must be positive")
	}
	s.perIP = seckill.PerSecond(c.ipRate, c.ipBurst)
	trusted, err := parsePrefixes(c.trustedProxies)
	if err != nil {
		return fmt.Errorf("-trusted-proxies: %w", err)
	}
	s.trustedProxies = trusted
	return nil
}

// mintToken prints a token for user signed with the hex key.
func mintToken(hexKey, user string) error {
	key, err := hex.DecodeString(hexKey)
	if err != nil || len(key) < 32 {
		return errors.New("-mint-token needs -token-key (or SHOP_TOKEN_KEY): at least 32 bytes in hex")
	}
	if !validName(user) {
		return errors.New("-mint-token: the user must have 1 to 64 letters, digits, '-', '_' or '.'")
	}
	a := auth{key: key, now: time.Now}
	fmt.Println(a.mint(user, 24*time.Hour))
	return nil
}

func run(listen, redisAddr, clusterAddrs, prefix string, hold time.Duration, smoke bool, c config) error {
	st, err := open(redisAddr, clusterAddrs, prefix, smoke)
	if err != nil {
		return err
	}
	defer st.closeAll()
	s, err := newShop(st, hold)
	if err != nil {
		return err
	}
	if err := c.apply(s); err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := s.start(ctx); err != nil {
		return err
	}
	if smoke {
		listen = "127.0.0.1:0"
	}
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		return err
	}
	fmt.Printf("shop on http://%s (%s stores)\n", ln.Addr(), st.backend)
	if c.adminListen != "" {
		aln, err := net.Listen("tcp", c.adminListen)
		if err != nil {
			return err
		}
		admin := &http.Server{Handler: s.adminRoutes(), ReadHeaderTimeout: 5 * time.Second}
		go func() { _ = admin.Serve(aln) }()
		defer admin.Close()
		fmt.Printf("profiler and metrics on http://%s/debug/pprof/\n", aln.Addr())
	}
	if smoke {
		go func() {
			defer stop()
			if err := session("http://"+ln.Addr().String(), os.Stdout); err != nil {
				log.Printf("smoke session: %v", err)
				os.Exit(1)
			}
		}()
	}
	return s.serve(ctx, ln)
}

// open returns the stores: in memory, or on the named Redis. A smoke run
// on Redis uses a prefix of its own and deletes its keys afterwards.
func open(redisAddr, clusterAddrs, prefix string, smoke bool) (*stores, error) {
	client := exampleredis.Dial(redisAddr, clusterAddrs)
	if client == nil {
		return openMemory(), nil
	}
	if smoke {
		prefix = fmt.Sprintf("example:shop:%d", os.Getpid())
	}
	st, err := openRedis(client, prefix)
	if err != nil {
		_ = client.Close()
		return nil, err
	}
	closeStores := st.closeAll
	st.closeAll = func() {
		closeStores()
		if smoke {
			// Stores keyed per ID (the sale, the limiter) start with the
			// prefix; the others with its hash tag.
			exampleredis.Close(client, "{"+prefix+":*", prefix+":*")
		} else {
			_ = client.Close()
		}
	}
	return st, nil
}

// start receives the opening stock, opens the flash sale and starts the
// background loop.
// ensure restores what the shop starts with when a store lost it — a
// Redis restarted without persistence: the opening stock (its marker went
// with it) and the flash sale. Both steps are idempotent, so it runs on
// every background tick.
func (s *shop) ensure(ctx context.Context) error {
	if err := s.receiveOpeningStock(ctx); err != nil {
		return err
	}
	if err := s.refreshCatalogue(ctx); err != nil {
		return err
	}
	if settled, err := s.st.flag(ctx, flagSaleSettled); err != nil || settled {
		return err // a settled sale stays closed
	}
	if _, err := s.st.gate.Status(ctx, flashSaleID); errors.Is(err, seckill.ErrUnknownSale) {
		s.logf("the flash sale is gone from its store; opening it again")
		if _, err := s.openFlashSale(ctx); err != nil {
			return fmt.Errorf("open flash sale: %w", err)
		}
	} else if err != nil {
		return err
	}
	return nil
}

func (s *shop) start(ctx context.Context) error {
	if err := s.receiveOpeningStock(ctx); err != nil {
		return err
	}
	if err := s.refreshCatalogue(ctx); err != nil {
		return err
	}
	if settled, err := s.st.flag(ctx, flagSaleSettled); err != nil {
		return err
	} else if !settled {
		if _, err := s.openFlashSale(ctx); err != nil {
			return fmt.Errorf("open flash sale: %w", err)
		}
	}
	// Finish what an earlier process (this one before a crash, or another
	// instance) left under way.
	s.resumeUnfinished(ctx, 0)
	return nil
}

// serve answers requests until ctx ends, then shuts down gracefully:
// requests in flight finish, then the background loop stops.
func (s *shop) serve(ctx context.Context, ln net.Listener) error {
	srv := &http.Server{Handler: s.routes(), ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout: 10 * time.Second, WriteTimeout: 30 * time.Second}
	loopCtx, stopLoop := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		s.background(loopCtx, time.Second)
	}()
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		stopLoop()
		wg.Wait()
		return err
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err := srv.Shutdown(shutdown)
	stopLoop()
	wg.Wait()
	if err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	fmt.Println("shop stopped")
	return nil
}

// background runs the periodic work until ctx ends: steps left under way
// are finished and unpaid orders expire, admitted flash-sale tickets
// become orders, unpaid tickets return their units, and orders past their
// retention leave the index.
func (s *shop) background(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if err := s.ensure(ctx); err != nil && ctx.Err() == nil {
			s.warn("ensure", "restoring the opening stock and the flash sale: %v", err)
		}
		s.resumeUnfinished(ctx, resumeGrace)
		if err := s.consumeTickets(ctx); err != nil && ctx.Err() == nil {
			s.logf("flash-sale queue: %v", err)
		}
		if _, err := s.st.gate.Sweep(ctx, flashSaleID); err != nil && ctx.Err() == nil {
			s.logf("flash-sale sweep: %v", err)
		}
		if err := s.st.orders.forget(ctx, s.now().Add(-orderRetention)); err != nil && ctx.Err() == nil {
			s.warn("forget", "dropping old orders from the index: %v", err)
		}
	}
}
