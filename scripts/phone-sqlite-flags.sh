# Sourced by the phone library builds (android-demo/scripts/build-rust.sh,
# scripts/build-xcframework.sh) and scripts/lib-size.sh: compiles the bundled SQLite without
# what the core never uses (FTS3, R*Tree, JSON, STAT4, dbstat, soundex, extensions, column
# metadata, deprecated and shared-cache APIs). FTS5 (station and lesson search) stays. This
# keeps the stripped library under 6 MB with the sync HTTP/TLS stack (docs/benchmarks.md).
# Desktop, test and benchmark builds keep rusqlite's full set: the station benchmark compares
# against SQLite's own R*Tree.
export LIBSQLITE3_FLAGS="-USQLITE_ENABLE_FTS3 -USQLITE_ENABLE_FTS3_PARENTHESIS \
-USQLITE_ENABLE_RTREE -USQLITE_ENABLE_DBSTAT_VTAB -USQLITE_ENABLE_STAT4 -USQLITE_SOUNDEX \
-USQLITE_ENABLE_LOAD_EXTENSION -DSQLITE_OMIT_LOAD_EXTENSION -USQLITE_ENABLE_COLUMN_METADATA \
-DSQLITE_OMIT_JSON -DSQLITE_OMIT_DEPRECATED -DSQLITE_OMIT_SHARED_CACHE \
-DSQLITE_DEFAULT_MEMSTATUS=0 -DSQLITE_OMIT_AUTHORIZATION -DSQLITE_OMIT_COMPLETE \
-DSQLITE_OMIT_GET_TABLE -DSQLITE_OMIT_TCL_VARIABLE"
