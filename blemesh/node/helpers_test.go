package node_test

import "github.com/edgekit/edgekit/blemesh/bearer"

type bearerAdv = bearer.Adv

type captureB struct{ advs []bearer.Adv }

func (c *captureB) Send(a *bearer.Adv) error { c.advs = append(c.advs, a.Clone()); return nil }
