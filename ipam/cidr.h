/*
 * cidr.h: TRANSITIONAL. The old names of common/addr.h, kept only so that
 * fabric/fabric.c (split in parallel on another branch) builds unchanged.
 * Nothing else may include it. Delete it once fabric/ calls the common/addr.h
 * names (the lead's merge of issue 9 renames them; see the i9-common report).
 */
#ifndef WEFT_CIDR_H
#define WEFT_CIDR_H

#include "common/addr.h"

#define CIDR_STR_MAX ADDR_STR_MAX
#define cidr ipv4_subnet /* struct cidr */
#define cidr_parse_subnet ipv4_subnet_parse
#define cidr_parse_ip ipv4_parse
#define cidr_parse_ip_prefix ipv4_parse_with_prefix
#define cidr_parse_mac mac_parse
#define cidr_format_subnet ipv4_subnet_format
#define cidr_format_ip ipv4_format
#define cidr_format_mac mac_format
#define cidr_contains ipv4_subnet_contains
#define cidr_first_host ipv4_subnet_first_host
#define cidr_last_host ipv4_subnet_last_host
#define cidr_host_count ipv4_subnet_host_count
#define cidr_is_reserved ipv4_subnet_is_reserved
#define cidr_is_unicast ipv4_is_unicast

#endif
