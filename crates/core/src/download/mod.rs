//! The download engine: HTTP transfer with resume ([`transfer`]) and library file naming
//! ([`naming`]).
