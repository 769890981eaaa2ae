package iamsim

import (
	"fmt"
	"math/rand/v2"
	"time"
)

// Seed creates n users "user-0001", "user-0002", … in a realistic mix of
// states: 0, 1 or 2 keys (about 10/60/30 %), a fifth of keys Inactive,
// ages 1–400 days, a quarter never used, others last used with one of a few
// services and regions, and paths "/", "/team-a/" and "/team-b/". The same
// seed gives the same names, IDs, secrets and dates relative to the clock.
func Seed(n int, seed int64) Option {
	return func(s *Server) {
		s.seeders = append(s.seeders, func(s *Server) error { return s.seed(n, seed) })
	}
}

func (s *Server) seed(n int, seed int64) error {
	rng := rand.New(rand.NewPCG(uint64(seed), 0x6b6579726f74))
	services := []string{"iam", "s3", "ec2", "sts", "lambda"}
	regions := []string{"us-east-1", "us-west-2", "eu-west-1"}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.clock()
	day := 24 * time.Hour
	for i := 1; i <= n; i++ {
		name := fmt.Sprintf("user-%04d", i)
		path := "/"
		switch rng.IntN(5) {
		case 0:
			path = "/team-a/"
		case 1:
			path = "/team-b/"
		}
		nkeys := 1
		switch p := rng.IntN(10); {
		case p == 0:
			nkeys = 0
		case p >= 7:
			nkeys = 2
		}
		created := now.Add(-time.Duration(1+rng.IntN(400)) * day)
		var seeds []KeySeed
		for k := range nkeys {
			ks := KeySeed{
				ID:      "AKIA" + base32ID(fmt.Sprintf("iamsim/seed/%d/%d/%d", seed, i, k), 16),
				Status:  StatusActive,
				Created: now.Add(-time.Duration(1+rng.IntN(400))*day - time.Duration(rng.IntN(86400))*time.Second),
			}
			if rng.IntN(5) == 0 {
				ks.Status = StatusInactive
			}
			if rng.IntN(4) != 0 {
				span := now.Sub(ks.Created)
				ks.LastUsed = ks.Created.Add(time.Duration(rng.Int64N(int64(span))))
				ks.LastUsedService = services[rng.IntN(len(services))]
				ks.LastUsedRegion = regions[rng.IntN(len(regions))]
			}
			if ks.Created.Before(created) {
				created = ks.Created.Add(-time.Duration(rng.IntN(30)) * day)
			}
			seeds = append(seeds, ks)
		}
		u, e := s.createUserLocked(name, path, created)
		if e != nil {
			return fmt.Errorf("iamsim: Seed: %s", e.msg)
		}
		for _, ks := range seeds {
			if _, ok := s.keys[ks.ID]; ok {
				ks.ID = "" // a hash collision: take a generated ID instead
			}
			if _, e := s.addKeyLocked(u, ks); e != nil {
				return fmt.Errorf("iamsim: Seed: %s", e.msg)
			}
		}
	}
	return nil
}
