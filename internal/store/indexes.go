package store

import (
	"context"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// ensureIndexes creates those of models (each must be named) that coll
// lacks, one at a time. Asking for existing indexes again is what MongoDB
// allows, but FerretDB v1 drops the connection (a panic inside it) on a
// createIndexes that repeats existing ones, as every restart would.
func ensureIndexes(ctx context.Context, coll *mongo.Collection, models ...mongo.IndexModel) error {
	cur, err := coll.Indexes().List(ctx)
	if err != nil {
		return classify("list indexes of "+coll.Name(), err)
	}
	var existing []struct {
		Name string `bson:"name"`
	}
	if err := cur.All(ctx, &existing); err != nil {
		return classify("list indexes of "+coll.Name(), err)
	}
	have := map[string]bool{}
	for _, ix := range existing {
		have[ix.Name] = true
	}
	for _, m := range models {
		name := indexName(m)
		if name == "" {
			return fmt.Errorf("index on %s has no name", coll.Name())
		}
		if have[name] {
			continue
		}
		if _, err := coll.Indexes().CreateOne(ctx, m); err != nil {
			return classify("create index "+name+" on "+coll.Name(), err)
		}
	}
	return nil
}

func indexName(m mongo.IndexModel) string {
	if m.Options == nil {
		return ""
	}
	var o options.IndexOptions
	for _, set := range m.Options.List() {
		if err := set(&o); err != nil {
			return ""
		}
	}
	if o.Name == nil {
		return ""
	}
	return *o.Name
}

// startupTimeout bounds creating indexes at start-up, which is not a
// request: a busy database may take longer than STORE_TIMEOUT to answer it.
const startupTimeout = 30 * time.Second
