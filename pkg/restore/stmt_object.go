package restore

import "strings"

// schemaObject is a database object a logged statement creates, alters or drops that is not a
// table: a view, stored routine, trigger, event, package, or a database itself (Name "*").
type schemaObject struct {
	Kind  string   // VIEW, FUNCTION, PROCEDURE, TRIGGER, EVENT, PACKAGE, DATABASE
	Ref   tableRef // the database and the object's name
	Table tableRef // a trigger's table
}

// objectsOf reads which objects a CREATE, ALTER or DROP of a view, routine, trigger, event,
// package or database names, qualified by the default database schema. ok is false for any
// other statement, and for one it cannot read: account statements, UDFs (CREATE FUNCTION ...
// SONAME) and server-wide settings belong to no database.
//
// The TiDB parser reads views but not stored programs, triggers or events, so this reads the
// statement head itself; the body after the name is never looked at.
func objectsOf(schema string, stmt []byte) (objs []schemaObject, ok bool) {
	head := stmt
	if len(head) > 4096 {
		head = head[:4096] // the head of a long routine; what is cut is never read
	}
	var ts []token
	for _, t := range tokenize(string(head)) {
		if t.kind != tkSpace {
			ts = append(ts, t)
		}
	}
	i := 0
	at := func(w string) bool {
		if i < len(ts) && ts[i].word(w) {
			i++
			return true
		}
		return false
	}
	// name reads name or db.name, qualifying a bare name with schema.
	ident := func(j int) bool {
		return j < len(ts) && (ts[j].kind == tkWord || ts[j].kind == tkIdent && len(ts[j].text) >= 2 && strings.HasSuffix(ts[j].text, "`"))
	}
	name := func(schema string) (tableRef, bool) {
		if !ident(i) {
			return tableRef{}, false
		}
		first := ts[i].name()
		i++
		if i < len(ts) && ts[i].kind == tkPunct && ts[i].text == "." && ident(i+1) {
			i += 2
			return tableRef{DB: first, Table: ts[i-1].name()}, true
		}
		return tableRef{DB: schema, Table: first}, true
	}
	if !at("CREATE") && !at("ALTER") && !at("DROP") {
		return nil, false
	}
	verb := strings.ToUpper(ts[0].text)
	// CREATE [OR REPLACE] [ALGORITHM=x] [DEFINER=u@h] [SQL SECURITY x] [AGGREGATE] KIND: the first
	// unquoted word that names a kind decides (a definer is quoted in a binlog, and
	// CURRENT_USER names no kind).
	kind := ""
	for ; i < len(ts) && i < 16 && kind == ""; i++ {
		if ts[i].kind != tkWord {
			continue
		}
		switch k := strings.ToUpper(ts[i].text); k {
		case "VIEW", "FUNCTION", "PROCEDURE", "TRIGGER", "EVENT", "PACKAGE", "DATABASE", "SCHEMA":
			kind = k
		case "TABLE", "INDEX", "SEQUENCE", "USER", "ROLE", "SERVER", "TABLESPACE", "LOGFILE", "RESOURCE":
			return nil, false
		}
	}
	if kind == "" {
		return nil, false
	}
	if kind == "SCHEMA" {
		kind = "DATABASE"
	}
	if kind == "PACKAGE" {
		at("BODY")
	}
	if at("IF") {
		at("NOT")
		if !at("EXISTS") {
			return nil, false
		}
	}
	if kind == "DATABASE" {
		if verb == "ALTER" && i < len(ts) && ts[i].kind == tkWord {
			switch strings.ToUpper(ts[i].text) {
			case "DEFAULT", "CHARACTER", "CHARSET", "COLLATE", "COMMENT", "READ", "ENCRYPTION":
				// ALTER DATABASE with no name alters the default database.
				return []schemaObject{{Kind: kind, Ref: tableRef{DB: schema, Table: "*"}}}, schema != ""
			}
		}
		db, ok := name("")
		if !ok || db.DB != "" {
			return nil, false
		}
		return []schemaObject{{Kind: kind, Ref: tableRef{DB: db.Table, Table: "*"}}}, true
	}
	for {
		ref, ok := name(schema)
		if !ok {
			return nil, false
		}
		objs = append(objs, schemaObject{Kind: kind, Ref: ref})
		if kind != "VIEW" || verb != "DROP" || i >= len(ts) || ts[i].kind != tkPunct || ts[i].text != "," {
			break
		}
		i++
	}
	switch {
	case kind == "FUNCTION" && verb == "CREATE":
		// A loadable function (CREATE FUNCTION f RETURNS type SONAME 'lib.so') is server-wide.
		for j := i; j < len(ts) && j < i+4; j++ {
			if ts[j].word("SONAME") {
				return nil, false
			}
		}
	case kind == "TRIGGER" && verb == "CREATE":
		// CREATE TRIGGER [db.]name {BEFORE|AFTER} event [OR event ...] ON [db.]table: the trigger
		// lives in its table's database.
		for ; i < len(ts) && i < 32; i++ {
			if at("ON") {
				tb, ok := name(objs[0].Ref.DB)
				if !ok {
					return nil, false
				}
				objs[0].Table = tb
				return objs, true
			}
		}
		return nil, false
	}
	return objs, true
}
