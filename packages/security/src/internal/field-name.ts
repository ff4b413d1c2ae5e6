/** An RFC 9110 token (section 5.6.2): a header field name or a method. */
export const TOKEN: RegExp = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
