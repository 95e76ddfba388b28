package workers

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// RedisConfig holds the connection settings of the queue's Redis.
type RedisConfig struct {
	URL           string
	PoolSize      int
	DialTimeout   time.Duration
	SocketTimeout time.Duration
}

// OpenRedis connects go-redis' universal client and pings it. REDIS_URL is a
// redis:// or rediss:// URL; extra hosts in `addrs=h2:6379,h3:6379` and a
// `master_name=` (Sentinel) or `cluster=true` query parameter turn the same
// code into a Sentinel or Cluster client.
func OpenRedis(ctx context.Context, cfg RedisConfig) (redis.UniversalClient, error) {
	opts, err := redisOptions(cfg)
	if err != nil {
		return nil, err
	}
	client := redis.NewUniversalClient(opts)
	pingCtx, cancel := context.WithTimeout(ctx, cfg.DialTimeout)
	defer cancel()
	if err := client.Ping(pingCtx).Err(); err != nil {
		_ = client.Close()
		return nil, fmt.Errorf("ping redis: %w", err)
	}
	return client, nil
}

func redisOptions(cfg RedisConfig) (*redis.UniversalOptions, error) {
	u, err := url.Parse(cfg.URL)
	if err != nil {
		return nil, fmt.Errorf("parse REDIS_URL: %w", err)
	}
	q := u.Query()
	extra, master, cluster := q.Get("addrs"), q.Get("master_name"), q.Get("cluster") == "true"
	q.Del("addrs")
	q.Del("master_name")
	q.Del("cluster")
	u.RawQuery = q.Encode()
	opts, err := redis.ParseURL(u.String())
	if err != nil {
		return nil, fmt.Errorf("parse REDIS_URL: %w", err)
	}
	addrs := []string{opts.Addr}
	if extra != "" {
		addrs = append(addrs, strings.Split(extra, ",")...)
	}
	return &redis.UniversalOptions{
		Addrs:           addrs,
		DB:              opts.DB,
		Username:        opts.Username,
		Password:        opts.Password,
		TLSConfig:       opts.TLSConfig,
		MasterName:      master,
		IsClusterMode:   cluster,
		PoolSize:        cfg.PoolSize,
		DialTimeout:     cfg.DialTimeout,
		ReadTimeout:     cfg.SocketTimeout,
		WriteTimeout:    cfg.SocketTimeout,
		MaxRetries:      3, // go-redis retries timeouts and network errors itself
		ConnMaxIdleTime: 5 * time.Minute,
	}, nil
}
