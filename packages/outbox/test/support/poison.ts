/**
 * A trigger that refuses one text (`poison`) on the edits table, as a database
 * refuses a value it cannot store: what a storage failure of one edit looks like.
 */
import { Effect } from "effect"
import { SqlClient } from "effect/sql"

export const poison = (prefix: string) =>
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    const edits = `${prefix}edits`
    yield* sql.onDialectOrElse({
      pg: () =>
        Effect.andThen(
          sql.unsafe(`CREATE FUNCTION ${prefix}refuse() RETURNS trigger AS $$
            BEGIN IF NEW.text = 'poison' THEN RAISE EXCEPTION 'this text is refused'; END IF; RETURN NEW; END
            $$ LANGUAGE plpgsql`),
          sql.unsafe(`CREATE TRIGGER ${prefix}refuse BEFORE INSERT ON ${edits}
            FOR EACH ROW EXECUTE FUNCTION ${prefix}refuse()`)
        ),
      orElse: () =>
        sql.unsafe(`CREATE TRIGGER ${prefix}refuse BEFORE INSERT ON ${edits}
          WHEN NEW.text = 'poison' BEGIN SELECT RAISE(ABORT, 'this text is refused'); END`)
    })
  })
