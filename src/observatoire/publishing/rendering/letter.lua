--[[
letter.lua: what the letters need that Quarto does not do (Quarto does the rest: numbering, cross-references,
callouts, French wording). It runs after Quarto's own filters (`at: post-render`), once the shortcodes hold
their values and figures and tables are Quarto's floats (divs `#fig-x`, `#tbl-x`); letter-pdf.lua runs
earlier, for the PDF's images and links.

  * `.key-figures` holding `.key-figure` divs (a number line, then a label line) become the band of key figures:
    boxes in HTML (styled by letter.scss), a `#key-figures(...)` call in typst (defined in letter.typ). A value
    with no digit ("donnée non disponible") is a sentence: set smaller, never hyphenated.
  * HTML: a link "Télécharger les données (CSV)" after each figure whose image has the reader's CSV beside it
    (figures/x.svg -> figures/x.fr.csv, x.en.csv for a letter in English: the file of the page's language, the
    numbers as printed), and after each table `#tbl-x` with tables/x.<lang>.csv. The link's words are the
    metadata `data-link: {text: ..., figure: ..., table: ...}` (the visible text, and the aria-labels of a
    figure's and a table's link), which the rendering takes from site_words.yml.
  * HTML and PDF: the "Citer cette lettre" block at the end of the letter, from the metadata `observatoire-cite`
    (heading, text with the letter's title, date and address, data: a sentence on the data's licence).
]]

local DATA_LINK = {
  text = "Télécharger les données (CSV)",
  figure = "Télécharger les données de la figure (CSV)",
  table = "Télécharger les données du tableau (CSV)",
}
local LANG = "fr"
local is_html = quarto.doc.is_format("html")
local is_typst = quarto.doc.is_format("typst")

local function file_exists(path)
  local f = io.open(path, "rb")
  if f then
    f:close()
    return true
  end
  return false
end

--- Inlines as typst markup, for content arguments `[...]` of raw typst calls.
local function typst_inlines(inlines)
  local out = pandoc.write(pandoc.Pandoc({ pandoc.Plain(inlines) }), "typst")
  return (out:gsub("%s+$", ""))
end

local function data_link(href, what)
  -- Same visible text under every figure; the aria-label tells screen-reader users whose data it is.
  local link = pandoc.Link(
    { pandoc.Str(DATA_LINK.text) },
    href,
    "",
    pandoc.Attr("", { "data-link" }, {
      { "download", "" },
      { "aria-label", DATA_LINK[what] },
    })
  )
  return pandoc.Div({ pandoc.Para({ link }) }, pandoc.Attr("", { "data-download" }))
end

--- A key figure's number line and label line: one paragraph split at its first line break, or two blocks.
local function split_key_figure(div)
  local blocks = div.content
  if #blocks == 1 and (blocks[1].t == "Para" or blocks[1].t == "Plain") then
    local value, label = pandoc.Inlines({}), pandoc.Inlines({})
    local target = value
    for _, il in ipairs(blocks[1].content) do
      if target == value and (il.t == "SoftBreak" or il.t == "LineBreak") then
        target = label
      else
        target:insert(il)
      end
    end
    return value, label
  elseif #blocks >= 2 then
    local rest = pandoc.Blocks({})
    for i = 2, #blocks do
      rest:insert(blocks[i])
    end
    return pandoc.utils.blocks_to_inlines({ blocks[1] }), pandoc.utils.blocks_to_inlines(rest)
  end
  error("letter.lua: a key-figure holds a number line then a label line")
end

local function key_figures(div)
  local items = {}
  for _, b in ipairs(div.content) do
    if b.t == "Div" and b.classes:includes("key-figure") then
      local value, label = split_key_figure(b)
      local textual = pandoc.utils.stringify(value):find("%d") == nil
      items[#items + 1] = { value = value, label = label, textual = textual }
    else
      error("letter.lua: .key-figures may only hold .key-figure divs (found " .. b.t .. ")")
    end
  end
  if is_typst then
    local args = {}
    for _, it in ipairs(items) do
      args[#args + 1] = string.format(
        "(value: [%s], label: [%s], textual: %s)",
        typst_inlines(it.value),
        typst_inlines(it.label),
        it.textual and "true" or "false"
      )
    end
    return pandoc.RawBlock("typst", "#key-figures(\n  " .. table.concat(args, ",\n  ") .. ",\n)")
  end
  local boxes = {}
  for _, it in ipairs(items) do
    local classes = it.textual and { "key-figure-value", "key-figure-text" } or { "key-figure-value" }
    boxes[#boxes + 1] = pandoc.Div({
      pandoc.Div({ pandoc.Plain(it.value) }, pandoc.Attr("", classes)),
      pandoc.Div({ pandoc.Plain(it.label) }, pandoc.Attr("", { "key-figure-label" })),
    }, pandoc.Attr("", { "key-figure" }, { role = "listitem" }))
  end
  return pandoc.Div(boxes, pandoc.Attr(div.identifier, { "key-figures" }, { role = "list" }))
end

local function first_image(blocks)
  local found
  pandoc.Blocks(blocks):walk({
    Image = function(img)
      found = found or img
    end,
  })
  return found
end

--- HTML: the data link after a figure (figures/x.svg -> figures/x.csv) or a table (#tbl-x -> tables/x.csv).
local function float_data_link(div)
  local id = div.identifier
  local data, what
  if id:match("^fig%-") then
    local img = first_image(div.content)
    data, what = img and (img.src:gsub("%.[%w]+$", "") .. "." .. LANG .. ".csv"), "figure"
  elseif id:match("^tbl%-") then
    data, what = "tables/" .. id:sub(5) .. "." .. LANG .. ".csv", "table"
  end
  if data and file_exists(data) then
    return { div, data_link(data, what) }
  end
  return nil
end

--- The "Citer cette lettre" block: a heading, the reference, the data's licence (metadata `observatoire-cite`).
local function cite_block(cite)
  local blocks = pandoc.Blocks({ pandoc.Header(2, pandoc.Inlines(cite.heading), pandoc.Attr("", { "cite-letter" })) })
  blocks:insert(pandoc.Para(pandoc.Inlines(cite.text)))
  if cite.data then
    blocks:insert(pandoc.Para(pandoc.Inlines(cite.data)))
  end
  return blocks
end

function Pandoc(doc)
  local words = doc.meta["data-link"]
  if type(words) == "table" then
    for key, value in pairs(words) do
      DATA_LINK[key] = pandoc.utils.stringify(value)
    end
  end
  if doc.meta.lang then
    LANG = pandoc.utils.stringify(doc.meta.lang):sub(1, 2)
  end
  local cite = doc.meta["observatoire-cite"]
  if type(cite) == "table" and cite.heading and cite.text then
    doc.blocks:extend(cite_block(cite))
  end
  local filters = {
    Div = function(div)
      if div.classes:includes("key-figures") then
        return key_figures(div)
      end
      if is_html then
        return float_data_link(div)
      end
    end,
  }
  return doc:walk(filters)
end
