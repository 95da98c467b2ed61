//! Helpers for asserting on CloudFormation templates.
