package workers

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
)

// Keys names the queue's Redis keys. They share one hash tag so the
// multi-key moves (BLMOVE, the Lua scripts) also work on Redis Cluster.
type Keys struct{ ns string }

// NewKeys returns the keys under namespace ns.
func NewKeys(ns string) Keys { return Keys{ns: ns} }

func (k Keys) prefix() string { return "{" + k.ns + "}:" }

// Ready is the list workers fetch from.
func (k Keys) Ready() string { return k.prefix() + "ready" }

// Delayed is the ZSET of retries, scored by due time in milliseconds.
func (k Keys) Delayed() string { return k.prefix() + "delayed" }

// Instances is the set of instance ids that own a processing list.
func (k Keys) Instances() string { return k.prefix() + "instances" }

// Processing is the list of ids one instance has fetched but not acknowledged.
func (k Keys) Processing(instance string) string { return k.prefix() + "processing:" + instance }

// Heartbeat is the key whose TTL says an instance is alive.
func (k Keys) Heartbeat(instance string) string { return k.prefix() + "heartbeat:" + instance }

// Queue is the Redis reliable queue: ids only, never email content. An id
// moves ready → this instance's processing list on fetch and leaves it on
// acknowledgement, so a crashed instance's ids can be pushed back.
type Queue struct {
	rdb      redis.UniversalClient
	keys     Keys
	instance string
}

// NewQueue returns the queue of one process instance.
func NewQueue(rdb redis.UniversalClient, namespace, instance string) *Queue {
	return &Queue{rdb: rdb, keys: NewKeys(namespace), instance: instance}
}

// Instance returns this process's instance id.
func (q *Queue) Instance() string { return q.instance }

// Keys returns the queue's key names.
func (q *Queue) Keys() Keys { return q.keys }

// Push appends ids to the ready list.
func (q *Queue) Push(ctx context.Context, ids ...uint64) error {
	if len(ids) == 0 {
		return nil
	}
	vals := make([]any, len(ids))
	for i, id := range ids {
		vals[i] = strconv.FormatUint(id, 10)
	}
	if err := q.rdb.LPush(ctx, q.keys.Ready(), vals...).Err(); err != nil {
		return fmt.Errorf("push to ready: %w", err)
	}
	return nil
}

// ErrEmpty means no id arrived before the fetch timeout.
var ErrEmpty = errors.New("queue empty")

// Fetch blocks up to wait for an id and moves it to this instance's
// processing list. Entries that are not ids (Redis is untrusted) are dropped.
func (q *Queue) Fetch(ctx context.Context, wait time.Duration) (uint64, error) {
	for {
		raw, err := q.rdb.BLMove(ctx, q.keys.Ready(), q.keys.Processing(q.instance), "RIGHT", "LEFT", wait).Result()
		if errors.Is(err, redis.Nil) {
			return 0, ErrEmpty
		}
		if err != nil {
			return 0, fmt.Errorf("fetch: %w", err)
		}
		id, perr := strconv.ParseUint(raw, 10, 64)
		if perr == nil && id > 0 {
			return id, nil
		}
		q.rdb.LRem(ctx, q.keys.Processing(q.instance), 1, raw)
	}
}

// Ack removes id from this instance's processing list.
func (q *Queue) Ack(ctx context.Context, id uint64) error {
	if err := q.rdb.LRem(ctx, q.keys.Processing(q.instance), 1, strconv.FormatUint(id, 10)).Err(); err != nil {
		return fmt.Errorf("ack: %w", err)
	}
	return nil
}

// Schedule puts id in the delayed set, due at at.
func (q *Queue) Schedule(ctx context.Context, id uint64, at time.Time) error {
	err := q.rdb.ZAdd(ctx, q.keys.Delayed(), redis.Z{Score: float64(at.UnixMilli()), Member: strconv.FormatUint(id, 10)}).Err()
	if err != nil {
		return fmt.Errorf("schedule: %w", err)
	}
	return nil
}

// popDueScript removes and returns up to ARGV[2] members due by ARGV[1] from the delayed set.
var popDueScript = redis.NewScript(`
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[2]))
if #due > 0 then redis.call('ZREM', KEYS[1], unpack(due)) end
return due`)

// PopDue removes up to limit ids due by now from the delayed set and returns
// them. The caller queues them in PostgreSQL and pushes them; if it dies in
// between, the reaper finds the rows still retrying past their due time.
func (q *Queue) PopDue(ctx context.Context, now time.Time, limit int) ([]uint64, error) {
	raw, err := popDueScript.Run(ctx, q.rdb, []string{q.keys.Delayed()}, now.UnixMilli(), limit).StringSlice()
	if err != nil {
		return nil, fmt.Errorf("pop due: %w", err)
	}
	ids := make([]uint64, 0, len(raw))
	for _, r := range raw {
		if id, err := strconv.ParseUint(r, 10, 64); err == nil && id > 0 {
			ids = append(ids, id)
		}
	}
	return ids, nil
}

// Beat marks this instance alive for ttl and registers it.
func (q *Queue) Beat(ctx context.Context, ttl time.Duration) error {
	_, err := q.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.Set(ctx, q.keys.Heartbeat(q.instance), time.Now().UTC().Format(time.RFC3339), ttl)
		p.SAdd(ctx, q.keys.Instances(), q.instance)
		return nil
	})
	if err != nil {
		return fmt.Errorf("heartbeat: %w", err)
	}
	return nil
}

// Leave deregisters this instance after pushing its unacknowledged ids back to ready.
func (q *Queue) Leave(ctx context.Context) error {
	if _, err := q.requeueInstance(ctx, q.instance); err != nil {
		return err
	}
	return q.rdb.Del(ctx, q.keys.Heartbeat(q.instance)).Err()
}

// requeueScript pushes a dead instance's processing list back to ready and
// forgets the instance, atomically, unless its heartbeat came back.
var requeueScript = redis.NewScript(`
if ARGV[2] == '1' and redis.call('EXISTS', KEYS[3]) == 1 then return -1 end
local n = 0
while redis.call('RPOPLPUSH', KEYS[1], KEYS[2]) do n = n + 1 end
redis.call('SREM', KEYS[4], ARGV[1])
return n`)

func (q *Queue) requeueInstance(ctx context.Context, instance string) (int, error) {
	onlyIfDead := "1"
	if instance == q.instance {
		onlyIfDead = "0"
	}
	n, err := requeueScript.Run(ctx, q.rdb,
		[]string{q.keys.Processing(instance), q.keys.Ready(), q.keys.Heartbeat(instance), q.keys.Instances()},
		instance, onlyIfDead).Int()
	if err != nil {
		return 0, fmt.Errorf("requeue instance: %w", err)
	}
	return max(n, 0), nil
}

// RequeueDeadInstances pushes back the processing lists of instances whose
// heartbeat expired and returns how many ids moved.
func (q *Queue) RequeueDeadInstances(ctx context.Context) (int, error) {
	instances, err := q.rdb.SMembers(ctx, q.keys.Instances()).Result()
	if err != nil {
		return 0, fmt.Errorf("list instances: %w", err)
	}
	total := 0
	for _, inst := range instances {
		if inst == q.instance {
			continue
		}
		n, err := q.requeueInstance(ctx, inst)
		if err != nil {
			return total, err
		}
		total += n
	}
	return total, nil
}

// ReadyLen reports how many ids wait in the ready list.
func (q *Queue) ReadyLen(ctx context.Context) (int64, error) {
	n, err := q.rdb.LLen(ctx, q.keys.Ready()).Result()
	if err != nil {
		return 0, fmt.Errorf("ready length: %w", err)
	}
	return n, nil
}

// Depths reports the ready, delayed and processing (all instances) sizes.
func (q *Queue) Depths(ctx context.Context) (ready, delayed, processing int64, err error) {
	instances, err := q.rdb.SMembers(ctx, q.keys.Instances()).Result()
	if err != nil {
		return 0, 0, 0, fmt.Errorf("depths: %w", err)
	}
	cmds, err := q.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		p.LLen(ctx, q.keys.Ready())
		p.ZCard(ctx, q.keys.Delayed())
		for _, inst := range instances {
			p.LLen(ctx, q.keys.Processing(inst))
		}
		return nil
	})
	if err != nil {
		return 0, 0, 0, fmt.Errorf("depths: %w", err)
	}
	ready = cmds[0].(*redis.IntCmd).Val()
	delayed = cmds[1].(*redis.IntCmd).Val()
	for _, c := range cmds[2:] {
		processing += c.(*redis.IntCmd).Val()
	}
	return ready, delayed, processing, nil
}
