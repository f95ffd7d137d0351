//! Integration tests of the server: a real listener on loopback, a real catalog (redb file in a
//! temp dir), real HTTP (reqwest), the testkit server for feeds. Modules mirror `src/`.

mod assets;
mod auth;
mod live;
mod rig;
mod routes;
